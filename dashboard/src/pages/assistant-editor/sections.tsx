import type { ReactNode } from 'react';
import {
  FieldError,
  HeadersField,
  JsonField,
  LinesField,
  NumberField,
  SecretField,
  SelectField,
  TextArea,
  TextField,
  Toggle,
  useForm,
} from '../../components/form.js';
import { Card } from '../../components/ui.js';
import { getPath } from '../../lib/paths.js';
import { EVENT_TYPES, LLM_PROVIDERS, RUBRICS, STT_PROVIDERS, TTS_PROVIDERS } from './options.js';
import { ToolsEditor } from './ToolsEditor.js';

export function GeneralSection() {
  return (
    <Card title="Conversation" id="general">
      <TextField path="name" label="Name" emptyAsUndefined={false} />
      <TextArea path="welcomeMessage" label="Welcome message" rows={2} />
      <div className="grid-2">
        <SelectField
          path="welcomeMessageMode"
          label="Welcome message mode"
          options={[
            { value: 'automatic', label: 'Automatic: spoken when the call starts' },
            { value: 'manual', label: 'Manual: on a "say" from the client' },
          ]}
        />
        <div className="stack">
          <Toggle
            path="welcomeMessageInterruptionsEnabled"
            label="Caller may interrupt the welcome message"
          />
          <Toggle path="bargeInEnabled" label="Barge-in: caller may interrupt replies" />
        </div>
      </div>
      <TextArea path="endCallMessage" label="End-call message" rows={2} />
      <LinesField
        path="endCallPhrases"
        label="End-call phrases"
        hint="One per line; saying one ends the call."
      />
    </Card>
  );
}

/**
 * A fallback's provider: emptying it ("none") removes the whole fallback object, so no
 * provider-less `{ model }` is left behind for the API to refuse.
 */
function useFallback(base: string) {
  const { value, set } = useForm();
  const provider = getPath(value, `${base}.provider`);
  return {
    active: typeof provider === 'string' && provider !== '',
    write: (next: string | undefined) => set(next === undefined ? base : `${base}.provider`, next),
  };
}

function FallbackGroup({ base, children, testId }: { base: string; children: ReactNode; testId: string }) {
  return (
    <div className="fallback" data-testid={testId}>
      <div className="fallback-title">Fallback</div>
      <p className="fallback-hint">
        Used for the rest of the call when the primary fails retryably (5xx, 429, timeout).
      </p>
      {children}
      <FieldError path={base} />
    </div>
  );
}

function LlmFallback() {
  const base = 'assistantFallback';
  const fallback = useFallback(base);
  return (
    <FallbackGroup base={base} testId="llm-fallback">
      <div className="grid-2">
        <SelectField
          path={`${base}.provider`}
          label="Provider"
          options={LLM_PROVIDERS}
          allowEmpty="none"
          onValue={fallback.write}
        />
        <TextField
          path={`${base}.model`}
          label="Model"
          placeholder={fallback.active ? 'claude-haiku-4-5' : 'choose a provider first'}
          disabled={!fallback.active}
        />
      </div>
    </FallbackGroup>
  );
}

export function ModelSection() {
  return (
    <Card title="Model" id="model">
      <div className="grid-2">
        <SelectField path="assistantProvider" label="Provider" options={LLM_PROVIDERS} />
        <TextField path="assistantModel" label="Model" placeholder="gpt-4o-mini" />
      </div>
      <LlmFallback />
      <TextArea path="assistantSystemPrompt" label="System prompt" rows={8} />
      <div className="grid-2">
        <NumberField
          path="assistantTemperature"
          label="Temperature"
          step={0.05}
          min={0}
          max={1}
          hint="0 to 1"
        />
        <NumberField path="assistantMaxTokens" label="Max tokens" step={1} min={1} max={32000} />
      </div>
    </Card>
  );
}

function SpeechFallback({ kind }: { kind: 'stt' | 'tts' }) {
  const base = `config.speech.${kind}.fallback`;
  const fallback = useFallback(base);
  const off = !fallback.active;
  return (
    <FallbackGroup base={base} testId={`${kind}-fallback`}>
      <div className="grid-3">
        <TextField
          path={`${base}.provider`}
          label="Provider"
          list={`${kind}-providers`}
          placeholder="none"
          onValue={fallback.write}
        />
        <TextField path={`${base}.model`} label="Model" disabled={off} />
        {kind === 'stt' ? (
          <TextField
            path={`${base}.language`}
            label="Language"
            disabled={off}
            placeholder="same as primary"
          />
        ) : (
          <TextField path={`${base}.voice`} label="Voice" disabled={off} placeholder="provider default" />
        )}
      </div>
    </FallbackGroup>
  );
}

export function SpeechSection() {
  return (
    <Card title="Speech" id="speech">
      <datalist id="stt-providers">
        {STT_PROVIDERS.map((p) => (
          <option key={p} value={p} />
        ))}
      </datalist>
      <datalist id="tts-providers">
        {TTS_PROVIDERS.map((p) => (
          <option key={p} value={p} />
        ))}
      </datalist>
      <h3 className="section-title">Speech to text</h3>
      <div className="grid-2">
        <TextField
          path="config.speech.stt.provider"
          label="Provider"
          list="stt-providers"
          placeholder="pocketsphinx"
          hint={`Known: ${STT_PROVIDERS.join(', ')}`}
        />
        <TextField path="config.speech.stt.model" label="Model" />
        <TextField path="config.speech.stt.language" label="Language" placeholder="en-US" />
        <NumberField
          path="config.speech.stt.endpointingMs"
          label="End of turn after (ms)"
          step={50}
          min={100}
          max={5000}
        />
      </div>
      <SpeechFallback kind="stt" />
      <h3 className="section-title">Text to speech</h3>
      <div className="grid-2">
        <TextField
          path="config.speech.tts.provider"
          label="Provider"
          list="tts-providers"
          placeholder="flite"
          hint={`Known: ${TTS_PROVIDERS.join(', ')}`}
        />
        <TextField path="config.speech.tts.model" label="Model" />
        <TextField path="config.speech.tts.voice" label="Voice" placeholder="kal16" />
        <NumberField path="config.speech.tts.speed" label="Speed" step={0.05} min={0.25} max={4} />
      </div>
      <SpeechFallback kind="tts" />
      <FieldError path="config" prefix />
    </Card>
  );
}

export function ToolsSection() {
  return (
    <Card title="Tools" id="tools">
      <ToolsEditor />
    </Card>
  );
}

function MessagesFilter() {
  const { value, set } = useForm();
  const selected = getPath(value, 'assistantServer.messages') as string[] | undefined;
  const all = selected === undefined;
  return (
    <div className="field field-wide">
      <span className="field-label">Events sent</span>
      <div className="checks" data-field="assistantServer.messages">
        {EVENT_TYPES.map((type) => {
          const checked = all || selected.includes(type);
          return (
            <label key={type} className="check">
              <input
                type="checkbox"
                name="assistantServer.messages"
                value={type}
                checked={checked}
                onChange={(e) => {
                  const base = all ? [...EVENT_TYPES] : selected;
                  set(
                    'assistantServer.messages',
                    e.target.checked ? [...base, type] : base.filter((t) => t !== type),
                  );
                }}
              />
              <span className="mono">{type}</span>
            </label>
          );
        })}
      </div>
      <FieldError path="assistantServer.messages" prefix />
    </div>
  );
}

export function WebhookSection({ testPanel }: { testPanel: ReactNode }) {
  return (
    <Card title="Webhook server" id="webhook">
      <Toggle path="assistantServer.enabled" label="Send events to this server" />
      <div className="grid-2">
        <TextField
          path="assistantServer.url"
          label="URL"
          type="url"
          placeholder="https://example.com/parley"
        />
        <SelectField
          path="assistantServer.format"
          label="Format"
          options={[
            { value: 'interactly', label: 'Interactly (default)' },
            { value: 'hms', label: 'HMS Sovereign' },
          ]}
        />
        <SecretField path="assistantServer.secret" label="Signing secret" />
        <NumberField path="assistantServer.timeoutSeconds" label="Timeout (s)" min={0} max={120} />
      </div>
      <HeadersField path="assistantServer.headers" label="Headers" />
      <MessagesFilter />
      <FieldError path="assistantServer" />
      {testPanel}
    </Card>
  );
}

function AnalysisPart({ part, title, children }: { part: string; title: string; children?: ReactNode }) {
  const base = `assistantAnalysis.${part}`;
  return (
    <div className="subsection">
      <h3 className="section-title">{title}</h3>
      <Toggle path={`${base}.enabled`} label="Enabled" />
      <div className="grid-3">
        <SelectField
          path={`${base}.provider`}
          label="Provider"
          options={LLM_PROVIDERS}
          allowEmpty="same as the call"
        />
        <TextField path={`${base}.model`} label="Model" />
        <NumberField path={`${base}.timeoutMs`} label="Timeout (ms)" min={100} max={120000} step={100} />
      </div>
      <TextArea path={`${base}.prompt`} label="Prompt" rows={3} />
      {children}
      <FieldError path={base} />
    </div>
  );
}

export function AnalysisSection() {
  return (
    <Card title="Analysis" id="analysis">
      <AnalysisPart part="summary" title="Summary">
        <TextArea path="assistantAnalysis.summary.template" label="Template" rows={2} />
      </AnalysisPart>
      <AnalysisPart part="successEvaluation" title="Success evaluation">
        <SelectField path="assistantAnalysis.successEvaluation.rubric" label="Rubric" options={RUBRICS} />
      </AnalysisPart>
      <AnalysisPart part="structuredData" title="Structured data">
        <JsonField path="assistantAnalysis.structuredData.schema" label="Schema (JSON Schema)" />
      </AnalysisPart>
    </Card>
  );
}

export function LimitsSection() {
  return (
    <Card title="Call limits & recording" id="limits">
      <div className="grid-3">
        <NumberField path="maxDurationSeconds" label="Max duration (s)" step={1} min={10} max={14400} />
        <NumberField path="idleTimeoutSeconds" label="Idle timeout (s)" step={1} min={2} max={600} />
        <TextField path="idleMessage" label="Idle message" />
      </div>
      <div className="grid-2">
        <Toggle path="recordingEnabled" label="Record calls" />
        <Toggle path="recordingStereo" label="Also record stereo (caller left, assistant right)" />
      </div>
    </Card>
  );
}
