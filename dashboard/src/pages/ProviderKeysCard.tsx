import { useState } from 'react';
import {
  CREDENTIAL_PROVIDERS,
  type CredentialProvider,
  ParleyApiError,
  type ProviderCredential,
  type ProviderCredentialPut,
} from '../../../browser-sdk/src/index.js';
import { Card, ErrorBanner, Spinner } from '../components/ui.js';
import { errorMessage, formatDate } from '../lib/format.js';
import { useClient } from '../lib/session.js';
import { useAsync } from '../lib/use-async.js';

/** What each provider's key is used for (README "## Providers"). */
const USED_FOR: Record<CredentialProvider, string> = {
  openai: 'LLM · STT · TTS',
  anthropic: 'LLM',
  gemini: 'LLM',
  'openai-compatible': 'LLM · base URL required, key optional',
  deepgram: 'STT · TTS',
  elevenlabs: 'TTS',
  cartesia: 'TTS',
};

const BASE_URL_PLACEHOLDER: Partial<Record<CredentialProvider, string>> = {
  'openai-compatible': 'https://api.groq.com/openai/v1',
};

/** The team's own cloud provider keys, one row per provider, each saved on its own. */
export function ProviderKeysCard() {
  const client = useClient();
  const list = useAsync((signal) => client.listProviderCredentials(signal), [client]);
  const [justSaved, setJustSaved] = useState<CredentialProvider | null>(null);
  const stored = new Map((list.data?.data ?? []).map((c) => [c.provider, c]));
  const environment = new Set<string>(list.data?.environment ?? []);

  return (
    <Card title="Provider keys">
      <p className="muted">
        Keys for the cloud providers this team's assistants use. They are encrypted at rest and never shown
        again: only their last four characters. A team's key or base URL wins over the server's environment;
        with its own base URL a team brings its own key (the server's key is never sent elsewhere).
      </p>
      {list.error ? <ErrorBanner error={list.error} /> : null}
      {!list.data && !list.error ? (
        <Spinner />
      ) : list.data ? (
        <div className="provider-list" data-testid="provider-keys">
          <div className="provider-grid provider-head" aria-hidden="true">
            <span>Provider</span>
            <span>API key</span>
            <span>Base URL</span>
            <span />
          </div>
          {CREDENTIAL_PROVIDERS.map((provider) => (
            <ProviderRow
              // the stored entry's time remounts the row after a save, so its inputs start over
              key={`${provider}:${stored.get(provider)?.updatedAt ?? ''}`}
              provider={provider}
              credential={stored.get(provider)}
              fromServer={environment.has(provider)}
              saved={justSaved === provider}
              onEdit={() => setJustSaved(null)}
              onSaved={(next) => {
                setJustSaved(provider);
                list.setData((prev) => ({
                  environment: prev?.environment ?? [],
                  data: [...(prev?.data ?? []).filter((c) => c.provider !== provider), next],
                }));
              }}
              onRemoved={() => {
                setJustSaved(null);
                list.setData((prev) => ({
                  environment: prev?.environment ?? [],
                  data: (prev?.data ?? []).filter((c) => c.provider !== provider),
                }));
              }}
            />
          ))}
        </div>
      ) : null}
    </Card>
  );
}

function ProviderRow({
  provider,
  credential,
  fromServer,
  saved,
  onSaved,
  onRemoved,
  onEdit,
}: {
  provider: CredentialProvider;
  credential: ProviderCredential | undefined;
  fromServer: boolean;
  /** Just saved: shows "Saved" until the next edit. */
  saved: boolean;
  onSaved: (next: ProviderCredential) => void;
  onRemoved: () => void;
  onEdit: () => void;
}) {
  const client = useClient();
  const storedUrl = credential?.baseUrl ?? '';
  const [apiKey, setApiKey] = useState('');
  const [baseUrl, setBaseUrl] = useState(storedUrl);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const body: ProviderCredentialPut = {};
  if (apiKey !== '') body.apiKey = apiKey;
  const url = baseUrl.trim();
  if (url !== storedUrl) body.baseUrl = url === '' ? null : url;
  const dirty = Object.keys(body).length > 0;

  const fieldError = error instanceof ParleyApiError && error.field ? error : null;
  const errorFor = (field: string) =>
    fieldError?.field === field ? (
      <div className="field-error" data-testid="field-error" data-field={field} role="alert">
        {fieldError.message}
      </div>
    ) : null;
  const otherError =
    error && !(fieldError && ['apiKey', 'baseUrl'].includes(fieldError.field ?? '')) ? error : null;

  const save = async () => {
    if (!dirty) return;
    setBusy(true);
    setError(null);
    try {
      const next = await client.putProviderCredential(provider, body);
      if (next.apiKeyHint === null && next.baseUrl === null) {
        // the base URL was cleared and no key is stored: nothing is left, drop the entry
        await client.deleteProviderCredential(provider);
        onRemoved();
      } else {
        onSaved(next);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.deleteProviderCredential(provider);
      onRemoved();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  const hint = credential?.apiKeyHint ?? null;
  const configured = Boolean(hint || credential?.baseUrl || fromServer);
  return (
    <form
      className="provider-grid provider-row"
      data-testid="provider-row"
      data-provider={provider}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="provider-name">
        <div className="cell-title mono">{provider}</div>
        <div className="cell-sub">{USED_FOR[provider]}</div>
        <div className="provider-status" data-testid="provider-status">
          {hint ? (
            <span className="pill pill-ok" data-testid="provider-key-hint" title="The team's own key">
              key <span className="mono">{hint}</span>
            </span>
          ) : null}
          {credential?.baseUrl ? (
            <span className="pill pill-info" title={credential.baseUrl}>
              own base URL
            </span>
          ) : null}
          {fromServer ? (
            <span
              className="pill pill-neutral"
              data-testid="provider-env-badge"
              title="The server's environment configures this provider; the team's own values win"
            >
              from server
            </span>
          ) : null}
          {!configured ? (
            <span className="pill pill-warn" data-testid="provider-not-configured">
              not configured
            </span>
          ) : null}
        </div>
      </div>
      <div className={`field${fieldError?.field === 'apiKey' ? ' field-invalid' : ''}`}>
        <input
          type="password"
          name="apiKey"
          aria-label={`${provider} API key`}
          data-testid="provider-key-input"
          autoComplete="new-password"
          placeholder={hint ? `replace ${hint}` : 'API key'}
          title={hint ? `A key ending ${hint.slice(1)} is stored; type a new one to replace it` : undefined}
          value={apiKey}
          onChange={(e) => {
            setApiKey(e.target.value);
            onEdit();
          }}
        />
        {errorFor('apiKey')}
      </div>
      <div className={`field${fieldError?.field === 'baseUrl' ? ' field-invalid' : ''}`}>
        <input
          type="url"
          name="baseUrl"
          aria-label={`${provider} base URL`}
          data-testid="provider-base-url-input"
          autoComplete="off"
          placeholder={BASE_URL_PLACEHOLDER[provider] ?? 'default endpoint'}
          value={baseUrl}
          onChange={(e) => {
            setBaseUrl(e.target.value);
            onEdit();
          }}
        />
        {errorFor('baseUrl')}
        {credential ? (
          <div className="field-hint">
            {storedUrl && url === '' ? 'Saving clears the base URL. ' : ''}Updated{' '}
            {formatDate(credential.updatedAt)}
          </div>
        ) : null}
      </div>
      <div className="provider-actions">
        <button
          type="submit"
          className="btn btn-secondary btn-sm"
          disabled={busy || !dirty}
          data-testid="provider-save-button"
        >
          {busy ? 'Saving…' : 'Save'}
        </button>
        {credential ? (
          <button
            type="button"
            className="btn btn-danger-ghost btn-sm"
            disabled={busy}
            onClick={remove}
            data-testid="provider-remove-button"
          >
            Remove
          </button>
        ) : null}
        {saved ? (
          <span className="provider-saved" data-testid="provider-saved">
            Saved
          </span>
        ) : null}
      </div>
      {otherError ? (
        <div className="field-error provider-row-error" role="alert" data-testid="provider-error">
          {errorMessage(otherError)}
        </div>
      ) : null}
    </form>
  );
}
