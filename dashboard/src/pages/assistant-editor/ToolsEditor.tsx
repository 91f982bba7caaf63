import {
  FieldError,
  HeadersField,
  JsonField,
  NumberField,
  SecretField,
  TextArea,
  TextField,
  Toggle,
  useForm,
} from '../../components/form.js';
import { getPath } from '../../lib/paths.js';

type ToolType = 'function' | 'endCall' | 'transferCall';

const templates: Record<ToolType, Record<string, unknown>> = {
  function: {
    type: 'function',
    name: '',
    description: '',
    parameters: { type: 'object', properties: {}, required: [] },
  },
  endCall: { type: 'endCall', description: 'Hang up when the conversation is over.' },
  transferCall: { type: 'transferCall', destinations: [{ number: '', description: '' }] },
};

function FunctionTool({ i }: { i: number }) {
  const { value, set } = useForm();
  const hasServer = getPath(value, `tools.${i}.server`) !== undefined;
  return (
    <>
      <div className="grid-2">
        <TextField
          path={`tools.${i}.name`}
          label="Name"
          placeholder="book_appointment"
          hint="Letters, digits, _ and -"
        />
        <Toggle path={`tools.${i}.async`} label="Async" hint="Do not wait for the result" />
      </div>
      <TextArea path={`tools.${i}.description`} label="Description" rows={2} />
      <JsonField
        path={`tools.${i}.parameters`}
        label="Parameters (JSON Schema)"
        hint='e.g. {"type":"object","properties":{"date":{"type":"string"}},"required":["date"]}'
      />
      <div className="grid-2">
        <TextField path={`tools.${i}.messages.requestStart`} label="Said while waiting" />
        <TextField path={`tools.${i}.messages.requestFailed`} label="Said when it fails" />
      </div>
      <div className="subsection">
        <label className="toggle">
          <input
            type="checkbox"
            checked={hasServer}
            onChange={(e) => set(`tools.${i}.server`, e.target.checked ? { url: '' } : undefined)}
          />
          <span className="toggle-track" aria-hidden="true">
            <span className="toggle-thumb" />
          </span>
          <span className="toggle-label">
            Own server (otherwise the assistant's webhook receives tool-calls)
          </span>
        </label>
        {hasServer ? (
          <div className="nested">
            <div className="grid-2">
              <TextField path={`tools.${i}.server.url`} label="URL" type="url" placeholder="https://…" />
              <NumberField path={`tools.${i}.server.timeoutSeconds`} label="Timeout (s)" min={0} max={10} />
            </div>
            <SecretField path={`tools.${i}.server.secret`} label="Secret" />
            <HeadersField path={`tools.${i}.server.headers`} label="Headers" />
          </div>
        ) : null}
        <FieldError path={`tools.${i}.server`} prefix />
      </div>
    </>
  );
}

function TransferTool({ i }: { i: number }) {
  const { value, set } = useForm();
  const destinations = (getPath(value, `tools.${i}.destinations`) ?? []) as unknown[];
  return (
    <>
      <TextArea path={`tools.${i}.description`} label="Description" rows={2} />
      <div className="field-label">Destinations</div>
      {destinations.map((_, d) => (
        <div
          className="nested grid-3"
          // biome-ignore lint/suspicious/noArrayIndexKey: destinations have no id; the form path is the index
          key={d}
        >
          <TextField path={`tools.${i}.destinations.${d}.number`} label="Number" placeholder="+15551234567" />
          <TextField path={`tools.${i}.destinations.${d}.description`} label="When" />
          <TextField path={`tools.${i}.destinations.${d}.message`} label="Message before transfer" />
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() =>
              set(
                `tools.${i}.destinations`,
                destinations.filter((__, j) => j !== d),
              )
            }
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        onClick={() => set(`tools.${i}.destinations`, [...destinations, { number: '' }])}
      >
        + Add destination
      </button>
      <FieldError path={`tools.${i}.destinations`} prefix />
    </>
  );
}

export function ToolsEditor() {
  const { value, set } = useForm();
  const tools = (getPath(value, 'tools') ?? []) as { type: ToolType; name?: string }[];
  return (
    <div className="tools">
      {tools.length === 0 ? <p className="muted">No tools: the assistant only talks.</p> : null}
      {tools.map((tool, i) => (
        <div
          className="tool-card"
          // biome-ignore lint/suspicious/noArrayIndexKey: tools have no id; the form path is the index
          key={`${i}-${tool.type}`}
        >
          <div className="tool-head">
            <select
              name={`tools.${i}.type`}
              value={tool.type}
              onChange={(e) =>
                set(
                  'tools',
                  tools.map((t, j) => (j === i ? structuredClone(templates[e.target.value as ToolType]) : t)),
                )
              }
            >
              <option value="function">Function</option>
              <option value="endCall">End call</option>
              <option value="transferCall">Transfer call</option>
            </select>
            <span className="tool-title">
              {tool.type === 'function' ? tool.name || 'unnamed function' : tool.type}
            </span>
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              onClick={() =>
                set(
                  'tools',
                  tools.filter((_, j) => j !== i),
                )
              }
            >
              Remove
            </button>
          </div>
          {tool.type === 'function' ? <FunctionTool i={i} /> : null}
          {tool.type === 'endCall' ? (
            <TextArea path={`tools.${i}.description`} label="Description" rows={2} />
          ) : null}
          {tool.type === 'transferCall' ? <TransferTool i={i} /> : null}
          <FieldError path={`tools.${i}`} />
        </div>
      ))}
      <div className="row gap">
        {(['function', 'endCall', 'transferCall'] as const).map((type) => (
          <button
            key={type}
            type="button"
            className="btn btn-secondary btn-sm"
            onClick={() => set('tools', [...tools, structuredClone(templates[type])])}
          >
            + {type === 'function' ? 'Function tool' : type === 'endCall' ? 'End call' : 'Transfer call'}
          </button>
        ))}
      </div>
      <FieldError path="tools" />
    </div>
  );
}
