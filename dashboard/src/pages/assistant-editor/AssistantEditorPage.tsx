import { useEffect, useState } from 'react';
import { Link, useLocation } from 'wouter';
import type { Assistant, AssistantCreate } from '../../../../browser-sdk/src/index.js';
import { ParleyApiError } from '../../../../browser-sdk/src/index.js';
import { type FieldErrorInfo, FormProvider } from '../../components/form.js';
import { ErrorBanner, PageHeader, Spinner, Tabs } from '../../components/ui.js';
import { errorMessage, formatDate } from '../../lib/format.js';
import { getPath, setPath } from '../../lib/paths.js';
import { useClient } from '../../lib/session.js';
import {
  AnalysisSection,
  GeneralSection,
  LimitsSection,
  ModelSection,
  SpeechSection,
  ToolsSection,
  WebhookSection,
} from './sections.js';
import { TestWebhookPanel } from './TestWebhookPanel.js';

type Draft = Record<string, unknown>;

const READ_ONLY = ['_id', 'createdAt', 'updatedAt'];

const SECTIONS = [
  ['general', 'Conversation'],
  ['model', 'Model'],
  ['speech', 'Speech'],
  ['tools', 'Tools'],
  ['webhook', 'Webhook'],
  ['analysis', 'Analysis'],
  ['limits', 'Limits & recording'],
] as const;

/** The body to send: read-only fields dropped, empty strings of optional URLs removed. */
function bodyOf(draft: Draft): Draft {
  const body: Draft = {};
  for (const [k, v] of Object.entries(draft)) if (!READ_ONLY.includes(k)) body[k] = v;
  return body;
}

/** Fallbacks the stored assistant has and the draft dropped: `null` removes them (JSON merge). */
const REMOVABLE = ['assistantFallback', 'config.speech.stt.fallback', 'config.speech.tts.fallback'];

function withRemovals(body: Draft, stored: Draft | null): Draft {
  let out = body;
  for (const path of REMOVABLE) {
    if (getPath(stored, path) !== undefined && getPath(body, path) === undefined)
      out = setPath(out, path, null);
  }
  return out;
}

export function AssistantEditorPage({ id }: { id: string | null }) {
  const client = useClient();
  const [, navigate] = useLocation();
  const [draft, setDraft] = useState<Draft | null>(id ? null : { name: '' });
  const [stored, setStored] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [formKey, setFormKey] = useState(0);
  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [rawText, setRawText] = useState('');
  const [rawError, setRawError] = useState('');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ParleyApiError | Error | null>(null);
  const [savedAt, setSavedAt] = useState<string>('');

  useEffect(() => {
    if (!id) return;
    const controller = new AbortController();
    client
      .getAssistant(id, controller.signal)
      .then((a) => {
        setDraft(a as unknown as Draft);
        setStored(a as unknown as Draft);
        setFormKey((k) => k + 1);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setLoadError(e);
      });
    return () => controller.abort();
  }, [client, id]);

  if (loadError) return <ErrorBanner error={loadError} />;
  if (!draft) return <Spinner />;

  const set = (path: string, next: unknown) => {
    setDraft((d) => setPath(d ?? {}, path, next));
    setSavedAt('');
  };

  const fieldError: FieldErrorInfo | null =
    saveError instanceof ParleyApiError && saveError.field
      ? { field: saveError.field, message: saveError.message }
      : null;

  const applyRaw = (): Draft | null => {
    try {
      const parsed: unknown = JSON.parse(rawText);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('the assistant must be a JSON object');
      const next = { ...(parsed as Draft) };
      for (const k of READ_ONLY) if (draft[k] !== undefined) next[k] = draft[k];
      setDraft(next);
      setFormKey((k) => k + 1);
      setRawError('');
      return next;
    } catch (e) {
      setRawError(errorMessage(e));
      return null;
    }
  };

  const save = async () => {
    const current = tab === 'json' ? applyRaw() : draft;
    if (!current) return;
    setSaving(true);
    setSaveError(null);
    try {
      if (id) {
        const updated = await client.updateAssistant(id, withRemovals(bodyOf(current), stored));
        setDraft(updated as unknown as Draft);
        setStored(updated as unknown as Draft);
        setFormKey((k) => k + 1);
        setSavedAt(new Date().toISOString());
      } else {
        const created = await client.createAssistant(bodyOf(current) as unknown as AssistantCreate);
        navigate(`/assistants/${created._id}`, { replace: true });
      }
    } catch (e) {
      setSaveError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!id || !window.confirm('Delete this assistant? Calls already made keep their record.')) return;
    try {
      await client.deleteAssistant(id);
      navigate('/assistants');
    } catch (e) {
      setSaveError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  const assistant = draft as Partial<Assistant>;
  return (
    <div className="page page-editor">
      <PageHeader
        title={id ? assistant.name || 'Assistant' : 'New assistant'}
        subtitle={
          id ? (
            <>
              <span className="mono">{id}</span> · updated {formatDate(assistant.updatedAt)}
            </>
          ) : (
            'A name is enough: every other field has a working default.'
          )
        }
        actions={
          <>
            <Link href="/assistants" className="btn btn-ghost">
              Back
            </Link>
            {id ? (
              <>
                <button type="button" className="btn btn-danger-ghost" onClick={remove}>
                  Delete
                </button>
                <Link href={`/talk/${id}`} className="btn btn-secondary" data-testid="editor-talk-button">
                  Talk
                </Link>
              </>
            ) : null}
            <button
              type="button"
              className="btn btn-primary"
              onClick={save}
              disabled={saving}
              data-testid="assistant-save-button"
            >
              {saving ? 'Saving…' : id ? 'Save changes' : 'Create assistant'}
            </button>
          </>
        }
      />
      {savedAt ? (
        <div className="banner banner-ok" data-testid="save-ok">
          Saved.
        </div>
      ) : null}
      {saveError ? (
        <div className="banner banner-error" role="alert" data-testid="form-error">
          {saveError instanceof ParleyApiError && saveError.field ? (
            <>
              <span className="mono">{saveError.field}</span>: {saveError.message}
            </>
          ) : (
            errorMessage(saveError)
          )}
        </div>
      ) : null}
      <Tabs
        tabs={[
          { id: 'form', label: 'Form', testId: 'tab-form' },
          { id: 'json', label: 'Raw JSON', testId: 'tab-json' },
        ]}
        active={tab}
        onChange={(next) => {
          if (next === 'json') setRawText(JSON.stringify(draft, null, 2));
          if (next === 'form' && tab === 'json' && !applyRaw()) return;
          setTab(next);
        }}
      />
      <form
        className="editor"
        data-testid="assistant-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {tab === 'form' ? (
          <div className="editor-layout">
            <nav className="editor-nav" aria-label="Sections">
              {SECTIONS.map(([anchor, label]) => (
                <a key={anchor} href={`#${anchor}`}>
                  {label}
                </a>
              ))}
            </nav>
            <FormProvider value={draft} set={set} error={fieldError} key={formKey}>
              <div className="editor-sections">
                <GeneralSection />
                <ModelSection />
                <SpeechSection />
                <ToolsSection />
                <WebhookSection
                  testPanel={
                    id ? (
                      <TestWebhookPanel assistantId={id} />
                    ) : (
                      <p className="muted">Save the assistant to send a test event.</p>
                    )
                  }
                />
                <AnalysisSection />
                <LimitsSection />
              </div>
            </FormProvider>
          </div>
        ) : (
          <div className="card">
            <div className="card-body">
              <p className="muted">
                Every field of the assistant, including ones the form does not show (e.g. <code>dialog</code>
                ). Secrets are write-only: add <code>assistantServer.secret</code> here to replace it.
              </p>
              <textarea
                className="mono raw-json"
                name="rawJson"
                data-testid="raw-json"
                spellCheck={false}
                rows={30}
                value={rawText}
                onChange={(e) => setRawText(e.target.value)}
              />
              {rawError ? <div className="field-error local">JSON: {rawError}</div> : null}
              <div className="row gap">
                <button type="button" className="btn btn-secondary" onClick={() => applyRaw()}>
                  Apply to form
                </button>
              </div>
            </div>
          </div>
        )}
        <button type="submit" hidden aria-hidden="true" tabIndex={-1} />
      </form>
    </div>
  );
}
