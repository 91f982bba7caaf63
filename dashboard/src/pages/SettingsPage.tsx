import { useEffect, useState } from 'react';
import { ParleyApiError, type Team } from '../../../browser-sdk/src/index.js';
import {
  type FieldErrorInfo,
  FormProvider,
  HeadersField,
  NumberField,
  SecretField,
  SelectField,
  TextField,
} from '../components/form.js';
import { Card, EmptyState, ErrorBanner, PageHeader, Spinner } from '../components/ui.js';
import { errorMessage, formatDate } from '../lib/format.js';
import { setPath } from '../lib/paths.js';
import { useClient, useSession } from '../lib/session.js';
import { useAsync } from '../lib/use-async.js';
import { ProviderKeysCard } from './ProviderKeysCard.js';

type Draft = Record<string, unknown>;

export function SettingsPage() {
  const client = useClient();
  const { signOut } = useSession();
  const [team, setTeam] = useState<Team | null>(null);
  const [draft, setDraft] = useState<Draft>({});
  const [formKey, setFormKey] = useState(0);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [saving, setSaving] = useState(false);
  const assistants = useAsync((signal) => client.listAssistants({ limit: 100 }, signal), [client]);
  const endpoints = useAsync((signal) => client.listDisabledEndpoints(signal), [client]);

  useEffect(() => {
    const controller = new AbortController();
    client
      .getTeam(controller.signal)
      .then((t) => {
        setTeam(t);
        setDraft(t.settings as Draft);
        setFormKey((k) => k + 1);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setLoadError(e);
      });
    return () => controller.abort();
  }, [client]);

  if (loadError) return <ErrorBanner error={loadError} />;
  if (!team) return <Spinner />;

  const fieldError: FieldErrorInfo | null =
    saveError instanceof ParleyApiError && saveError.field
      ? { field: saveError.field, message: saveError.message }
      : null;

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    setSaved(false);
    try {
      const patch: Draft = { ...draft };
      const server = patch.server as Draft | undefined;
      if (server && !server.url && Object.keys(server).length <= 1) delete patch.server;
      const updated = await client.updateTeam(patch);
      setTeam(updated);
      setDraft(updated.settings as Draft);
      setFormKey((k) => k + 1);
      setSaved(true);
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="page">
      <PageHeader
        title="Settings"
        subtitle={
          <>
            Team <strong>{team.name}</strong> <span className="mono muted">{team.id}</span>
          </>
        }
        actions={
          <button
            type="button"
            className="btn btn-primary"
            onClick={save}
            disabled={saving}
            data-testid="settings-save-button"
          >
            {saving ? 'Saving…' : 'Save settings'}
          </button>
        }
      />
      {saved ? <div className="banner banner-ok">Saved.</div> : null}
      {saveError ? <ErrorBanner error={saveError} /> : null}
      <FormProvider
        key={formKey}
        value={draft}
        set={(path, next) => {
          setDraft((d) => setPath(d, path, next));
          setSaved(false);
        }}
        error={fieldError}
      >
        <form
          className="stack-lg"
          data-testid="settings-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <Card title="Assistant requests">
            <p className="muted">
              Web calls created without an assistant, and phone numbers that name none, ask this server which
              assistant to use (<code>assistant-request</code>, answered within 5 s).
            </p>
            <div className="grid-2">
              <TextField
                path="server.url"
                label="Server URL"
                type="url"
                placeholder="https://example.com/assistant"
              />
              <SelectField
                path="server.format"
                label="Format"
                options={[
                  { value: 'interactly', label: 'Interactly (default)' },
                  { value: 'hms', label: 'HMS Sovereign' },
                ]}
              />
              <SecretField path="server.secret" label="Signing secret" />
              <NumberField path="server.timeoutSeconds" label="Timeout (s)" min={0} max={5} />
            </div>
            <HeadersField path="server.headers" label="Headers" />
            <SelectField
              path="defaultAssistantId"
              label="Default assistant (when the server does not answer in time)"
              allowEmpty="none"
              options={(assistants.data?.data ?? []).map((a) => ({ value: a._id, label: a.name }))}
            />
          </Card>
          <button type="submit" hidden aria-hidden="true" tabIndex={-1} />
        </form>
      </FormProvider>
      <ProviderKeysCard />
      <Card title="Disabled webhook endpoints">
        {endpoints.error ? <ErrorBanner error={endpoints.error} /> : null}
        {(endpoints.data?.data ?? []).filter((e) => e.disabledAt).length === 0 ? (
          <EmptyState title="All endpoints enabled" icon="✓">
            <p>An endpoint answering 410 Gone is disabled until you re-enable it here.</p>
          </EmptyState>
        ) : (
          <table className="table">
            <tbody>
              {(endpoints.data?.data ?? [])
                .filter((e) => e.disabledAt)
                .map((e) => (
                  <tr key={e.url}>
                    <td className="mono">{e.url}</td>
                    <td className="muted">
                      {formatDate(e.disabledAt)} {e.reason}
                    </td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-secondary btn-sm"
                        onClick={() =>
                          client
                            .enableEndpoint(e.url)
                            .then(endpoints.reload)
                            .catch((err: unknown) => window.alert(errorMessage(err)))
                        }
                      >
                        Re-enable
                      </button>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Session">
        <div className="row space">
          <p className="muted">Signed in with an API key stored in this browser.</p>
          <button type="button" className="btn btn-secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </Card>
    </div>
  );
}
