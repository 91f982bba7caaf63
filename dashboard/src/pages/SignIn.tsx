import { type FormEvent, useState } from 'react';
import { errorMessage } from '../lib/format.js';
import { useSession } from '../lib/session.js';

export function SignIn() {
  const { signIn } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!key.trim()) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await signIn(key);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="signin-card" onSubmit={submit}>
        <div className="brand brand-lg">
          <span className="brand-mark" aria-hidden="true">
            P
          </span>
          <span className="brand-name">Parley</span>
        </div>
        <h1>Sign in to your team</h1>
        <p className="muted" data-testid="sign-in-help">
          Paste an API key. No key yet? In a terminal, in the directory where Parley runs (it works while the
          server runs), create one for the team <code>default</code>:
        </p>
        <pre className="signin-command">npx parley keys create --team default</pre>
        <p className="muted">It prints the key once: keep it somewhere safe.</p>
        <label className="field">
          <span className="field-label">API key</span>
          <input
            type="password"
            autoComplete="off"
            placeholder="pk_…"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            data-testid="api-key-input"
            name="apiKey"
          />
        </label>
        {error ? (
          <div className="field-error" role="alert" data-testid="sign-in-error">
            {error}
          </div>
        ) : null}
        <button
          type="submit"
          className="btn btn-primary btn-block"
          disabled={busy}
          data-testid="sign-in-button"
        >
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="fine">The key is kept in this browser only (localStorage).</p>
      </form>
    </div>
  );
}
