import { createContext, type ReactNode, useContext, useState } from 'react';
import { getPath } from '../lib/paths.js';

/**
 * Form primitives bound to one object by dotted paths: every input's `name` is its field's
 * path, and the API's `error.field` is shown next to the input with that path.
 */
export interface FieldErrorInfo {
  field: string;
  message: string;
}

interface FormState {
  value: unknown;
  set(path: string, next: unknown): void;
  error: FieldErrorInfo | null;
}

const FormContext = createContext<FormState | null>(null);

export function FormProvider({ value, set, error, children }: FormState & { children: ReactNode }) {
  return <FormContext.Provider value={{ value, set, error }}>{children}</FormContext.Provider>;
}

export function useForm(): FormState {
  const form = useContext(FormContext);
  if (!form) throw new Error('useForm outside FormProvider');
  return form;
}

/** The API's error for `path` (or, with `prefix`, for anything under it). */
export function FieldError({ path, prefix = false }: { path: string; prefix?: boolean }) {
  const { error } = useForm();
  if (!error) return null;
  const matches = error.field === path || (prefix && error.field.startsWith(`${path}.`));
  if (!matches) return null;
  return (
    <div className="field-error" data-testid="field-error" data-field={error.field} role="alert">
      {error.message}
    </div>
  );
}

function Field({
  path,
  label,
  hint,
  children,
  wide,
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  children: ReactNode;
  wide?: boolean;
}) {
  const { error } = useForm();
  const invalid = error?.field === path;
  return (
    <div className={`field${wide ? ' field-wide' : ''}${invalid ? ' field-invalid' : ''}`}>
      <label className="field-label" htmlFor={`f-${path}`}>
        {label}
      </label>
      {children}
      {hint ? <div className="field-hint">{hint}</div> : null}
      <FieldError path={path} />
    </div>
  );
}

export function TextField({
  path,
  label,
  hint,
  placeholder,
  type = 'text',
  wide,
  list,
  emptyAsUndefined = true,
  disabled,
  onValue,
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  placeholder?: string;
  type?: 'text' | 'url' | 'password';
  wide?: boolean;
  list?: string;
  /** An empty input removes the field (optional fields); false keeps "". */
  emptyAsUndefined?: boolean;
  disabled?: boolean;
  /** Replaces the default write (e.g. to remove a whole object when its required field empties). */
  onValue?: (next: string | undefined) => void;
}) {
  const { value, set } = useForm();
  const current = getPath(value, path);
  return (
    <Field path={path} label={label} hint={hint} wide={wide}>
      <input
        id={`f-${path}`}
        name={path}
        type={type}
        list={list}
        placeholder={placeholder}
        autoComplete="off"
        disabled={disabled}
        value={typeof current === 'string' ? current : current === undefined ? '' : String(current)}
        onChange={(e) => {
          const next = e.target.value === '' && emptyAsUndefined ? undefined : e.target.value;
          if (onValue) onValue(next);
          else set(path, next);
        }}
      />
    </Field>
  );
}

export function TextArea({
  path,
  label,
  hint,
  rows = 4,
  placeholder,
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  rows?: number;
  placeholder?: string;
}) {
  const { value, set } = useForm();
  const current = getPath(value, path);
  return (
    <Field path={path} label={label} hint={hint} wide>
      <textarea
        id={`f-${path}`}
        name={path}
        rows={rows}
        placeholder={placeholder}
        value={typeof current === 'string' ? current : ''}
        onChange={(e) => set(path, e.target.value === '' ? undefined : e.target.value)}
      />
    </Field>
  );
}

export function NumberField({
  path,
  label,
  hint,
  step,
  min,
  max,
  placeholder,
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  step?: number;
  min?: number;
  max?: number;
  placeholder?: string;
}) {
  const { value, set } = useForm();
  const current = getPath(value, path);
  return (
    <Field path={path} label={label} hint={hint}>
      <input
        id={`f-${path}`}
        name={path}
        type="number"
        step={step ?? 'any'}
        min={min}
        max={max}
        placeholder={placeholder}
        value={typeof current === 'number' ? String(current) : ''}
        onChange={(e) => {
          const raw = e.target.value;
          set(path, raw === '' ? undefined : Number(raw));
        }}
      />
    </Field>
  );
}

export function SelectField({
  path,
  label,
  hint,
  options,
  allowEmpty,
  onValue,
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  options: readonly (string | { value: string; label: string })[];
  allowEmpty?: string;
  /** Replaces the default write (e.g. "none" removing a whole object). */
  onValue?: (next: string | undefined) => void;
}) {
  const { value, set } = useForm();
  const current = getPath(value, path);
  return (
    <Field path={path} label={label} hint={hint}>
      <select
        id={`f-${path}`}
        name={path}
        value={typeof current === 'string' ? current : ''}
        onChange={(e) => {
          const next = e.target.value === '' ? undefined : e.target.value;
          if (onValue) onValue(next);
          else set(path, next);
        }}
      >
        {allowEmpty !== undefined || current === undefined ? (
          <option value="">{allowEmpty ?? '—'}</option>
        ) : null}
        {options.map((o) => {
          const opt = typeof o === 'string' ? { value: o, label: o } : o;
          return (
            <option key={opt.value} value={opt.value}>
              {opt.label}
            </option>
          );
        })}
      </select>
    </Field>
  );
}

export function Toggle({ path, label, hint }: { path: string; label: ReactNode; hint?: ReactNode }) {
  const { value, set, error } = useForm();
  const current = getPath(value, path);
  return (
    <div className="field field-toggle">
      <label className="toggle">
        <input
          type="checkbox"
          name={path}
          checked={current === true}
          onChange={(e) => set(path, e.target.checked)}
        />
        <span className="toggle-track" aria-hidden="true">
          <span className="toggle-thumb" />
        </span>
        <span className="toggle-label">{label}</span>
      </label>
      {hint ? <div className="field-hint">{hint}</div> : null}
      {error?.field === path ? <FieldError path={path} /> : null}
    </div>
  );
}

/** A list of strings edited one per line. */
export function LinesField({ path, label, hint }: { path: string; label: ReactNode; hint?: ReactNode }) {
  const { value, set } = useForm();
  const current = getPath(value, path);
  const [text, setText] = useState(() => (Array.isArray(current) ? current.join('\n') : ''));
  return (
    <div className="field field-wide">
      <label className="field-label" htmlFor={`f-${path}`}>
        {label}
      </label>
      <textarea
        id={`f-${path}`}
        name={path}
        rows={3}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          set(
            path,
            e.target.value
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean),
          );
        }}
      />
      {hint ? <div className="field-hint">{hint}</div> : null}
      <FieldError path={path} prefix />
    </div>
  );
}

/** A JSON object edited as text; parse errors are shown locally, the value is set when it parses. */
export function JsonField({
  path,
  label,
  hint,
  rows = 6,
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  rows?: number;
}) {
  const { value, set } = useForm();
  const current = getPath(value, path);
  const [text, setText] = useState(() => (current === undefined ? '' : JSON.stringify(current, null, 2)));
  const [parseError, setParseError] = useState('');
  return (
    <div className="field field-wide">
      <label className="field-label" htmlFor={`f-${path}`}>
        {label}
      </label>
      <textarea
        id={`f-${path}`}
        name={path}
        rows={rows}
        className="mono"
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setParseError('');
            set(path, undefined);
            return;
          }
          try {
            const parsed: unknown = JSON.parse(e.target.value);
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
              throw new Error('must be a JSON object');
            setParseError('');
            set(path, parsed);
          } catch (err) {
            setParseError(err instanceof Error ? err.message : 'invalid JSON');
          }
        }}
      />
      {hint ? <div className="field-hint">{hint}</div> : null}
      {parseError ? <div className="field-error local">JSON: {parseError}</div> : null}
      <FieldError path={path} prefix />
    </div>
  );
}

/** Header name/value pairs. Stored values come back as "[redacted]" and are kept when unchanged. */
export function HeadersField({ path, label }: { path: string; label: ReactNode }) {
  const { value, set } = useForm();
  const current = (getPath(value, path) ?? {}) as Record<string, string>;
  const [rows, setRows] = useState<[string, string][]>(() => Object.entries(current));
  const commit = (next: [string, string][]) => {
    setRows(next);
    set(path, Object.fromEntries(next.filter(([k]) => k.trim() !== '').map(([k, v]) => [k.trim(), v])));
  };
  return (
    <div className="field field-wide">
      <span className="field-label">{label}</span>
      <div className="kv-list">
        {rows.map(([k, v], i) => (
          <div
            className="kv-row"
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place; the name is the value being typed
            key={i}
          >
            <input
              placeholder="Header-Name"
              value={k}
              name={`${path}.${i}.name`}
              onChange={(e) => commit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
            />
            <input
              placeholder="value"
              value={v}
              name={`${path}.${k || i}`}
              onChange={(e) => commit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
            />
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              aria-label="Remove header"
              onClick={() => commit(rows.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
        ))}
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => commit([...rows, ['', '']])}>
          + Add header
        </button>
      </div>
      <div className="field-hint">Values are write-only: saved ones show as [redacted] and are kept.</div>
      <FieldError path={path} prefix />
    </div>
  );
}

/** Write-only secret: never shown; typing a value replaces the stored one. */
export function SecretField({ path, label, hint }: { path: string; label: ReactNode; hint?: ReactNode }) {
  return (
    <TextField
      path={path}
      label={label}
      type="password"
      placeholder="•••••• (unchanged)"
      hint={hint ?? 'Write-only: leave empty to keep the stored secret.'}
    />
  );
}
