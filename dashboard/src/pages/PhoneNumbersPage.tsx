import { useState } from 'react';
import { ParleyApiError } from '../../../browser-sdk/src/index.js';
import {
  type FieldErrorInfo,
  FormProvider,
  SecretField,
  SelectField,
  TextField,
} from '../components/form.js';
import { Card, EmptyState, ErrorBanner, PageHeader, Spinner } from '../components/ui.js';
import { formatDate } from '../lib/format.js';
import { setPath } from '../lib/paths.js';
import { useClient } from '../lib/session.js';
import { useAsync } from '../lib/use-async.js';

/** `/v1/phone-numbers` as the dashboard reads it. */
interface PhoneNumber {
  id: string;
  number: string;
  provider: string;
  name: string | null;
  assistantId: string | null;
  credentials: Record<string, string>;
  apiBaseUrl: string | null;
  carrierSetup: {
    displayName: string;
    inboundUrl: string;
    statusUrl: string;
    steps: { field: string; url?: string; method?: string; note?: string }[];
  };
  createdAt: string;
}

/** Each carrier's credential fields (secret ones are write-only). */
const CARRIERS: Record<string, { label: string; fields: { name: string; secret: boolean }[] }> = {
  twilio: {
    label: 'Twilio',
    fields: [
      { name: 'accountSid', secret: false },
      { name: 'authToken', secret: true },
    ],
  },
  telnyx: {
    label: 'Telnyx',
    fields: [
      { name: 'apiKey', secret: true },
      { name: 'publicKey', secret: false },
      { name: 'connectionId', secret: false },
    ],
  },
  vonage: {
    label: 'Vonage',
    fields: [
      { name: 'applicationId', secret: false },
      { name: 'privateKey', secret: true },
      { name: 'signatureSecret', secret: true },
    ],
  },
  plivo: {
    label: 'Plivo',
    fields: [
      { name: 'authId', secret: false },
      { name: 'authToken', secret: true },
    ],
  },
};

type Draft = Record<string, unknown> & { provider?: string };

function fieldErrorOf(error: unknown): FieldErrorInfo | null {
  return error instanceof ParleyApiError && error.field
    ? { field: error.field, message: error.message }
    : null;
}

function SetupSteps({ phone }: { phone: PhoneNumber }) {
  return (
    <ol className="stack" data-testid="carrier-setup">
      {phone.carrierSetup.steps.map((step) => (
        <li key={step.field}>
          <strong>{step.field}</strong>
          {step.url ? (
            <div>
              {step.method ? <span className="tag">{step.method}</span> : null} <code>{step.url}</code>
            </div>
          ) : null}
          {step.note ? <div className="muted">{step.note}</div> : null}
        </li>
      ))}
    </ol>
  );
}

function AddNumber({
  assistants,
  onAdded,
}: {
  assistants: { value: string; label: string }[];
  onAdded(p: PhoneNumber): void;
}) {
  const client = useClient();
  const [draft, setDraft] = useState<Draft>({ provider: 'twilio' });
  const [error, setError] = useState<unknown>(null);
  const carrier = CARRIERS[draft.provider ?? 'twilio'] ?? CARRIERS.twilio;
  const add = async () => {
    setError(null);
    try {
      onAdded(
        await client.request<PhoneNumber>('POST', '/v1/phone-numbers', {
          body: { credentials: {}, ...draft },
        }),
      );
      setDraft({ provider: draft.provider });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card title="Add a number">
      <ErrorBanner error={error} />
      <FormProvider
        value={draft}
        set={(path, next) => setDraft((d) => setPath(d, path, next))}
        error={fieldErrorOf(error)}
      >
        <form
          className="grid-2"
          data-testid="add-phone-number"
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <TextField path="number" label="Number (E.164)" placeholder="+14155550100" />
          <TextField path="name" label="Name" placeholder="Front desk" />
          <SelectField
            path="provider"
            label="Carrier"
            options={Object.entries(CARRIERS).map(([value, c]) => ({ value, label: c.label }))}
            onValue={(provider) => setDraft((d) => ({ ...d, provider, credentials: {} }))}
          />
          <SelectField
            path="assistantId"
            label="Assistant"
            options={assistants}
            allowEmpty="assistant-request decides"
          />
          {carrier?.fields.map((f) =>
            f.secret ? (
              <SecretField key={f.name} path={`credentials.${f.name}`} label={f.name} />
            ) : (
              <TextField key={f.name} path={`credentials.${f.name}`} label={f.name} />
            ),
          )}
          <TextField
            path="apiBaseUrl"
            label="API base URL (optional)"
            type="url"
            hint="A regional or test endpoint"
          />
          <div>
            <button type="submit" className="btn btn-primary" data-testid="add-phone-number-button">
              Add number
            </button>
          </div>
        </form>
      </FormProvider>
    </Card>
  );
}

export function PhoneNumbersPage() {
  const client = useClient();
  const list = useAsync(
    (signal) =>
      client.request<{ data: PhoneNumber[] }>('GET', '/v1/phone-numbers', { query: { limit: 100 }, signal }),
    [client],
  );
  const assistantsList = useAsync((signal) => client.listAssistants({ limit: 100 }, signal), [client]);
  const assistants = (assistantsList.data?.data ?? []).map((a) => ({ value: a._id, label: a.name }));
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dialing, setDialing] = useState<Record<string, string>>({});
  const numbers = list.data?.data ?? [];

  const act = async (run: () => Promise<unknown>) => {
    setError(null);
    try {
      await run();
      list.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="page">
      <PageHeader
        title="Phone numbers"
        subtitle="Numbers at Twilio, Telnyx, Vonage or Plivo: the assistant that answers, and what to set in the carrier's console."
      />
      <ErrorBanner error={list.error ?? error} />
      <Card>
        {list.loading && !list.data ? (
          <Spinner />
        ) : numbers.length === 0 ? (
          <EmptyState title="No phone numbers yet" icon="☎">
            <p>Add one below; its carrier setup shows the URLs to paste into the carrier's console.</p>
          </EmptyState>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Number</th>
                <th>Carrier</th>
                <th>Assistant</th>
                <th>Call someone</th>
                <th>Added</th>
                <th aria-label="actions" />
              </tr>
            </thead>
            <tbody>
              {numbers.map((p) => (
                <tr key={p.id} data-testid="phone-number-row" data-phone-number-id={p.id}>
                  <td>
                    <div className="cell-title mono">{p.number}</div>
                    <div className="cell-sub">{p.name ?? ''}</div>
                    {shown === p.id ? <SetupSteps phone={p} /> : null}
                  </td>
                  <td>
                    <span className="tag">{p.carrierSetup.displayName}</span>
                  </td>
                  <td>
                    <select
                      aria-label="assistant"
                      value={p.assistantId ?? ''}
                      onChange={(e) =>
                        void act(() =>
                          client.request('PATCH', `/v1/phone-numbers/${p.id}`, {
                            body: { assistantId: e.target.value || null },
                          }),
                        )
                      }
                    >
                      <option value="">assistant-request decides</option>
                      {assistants.map((a) => (
                        <option key={a.value} value={a.value}>
                          {a.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <input
                      aria-label="number to call"
                      placeholder="+15550100"
                      value={dialing[p.id] ?? ''}
                      onChange={(e) => setDialing((d) => ({ ...d, [p.id]: e.target.value }))}
                    />
                    <button
                      type="button"
                      className="btn btn-secondary btn-sm"
                      disabled={!p.assistantId || !dialing[p.id]}
                      onClick={() =>
                        void act(() =>
                          client.request('POST', '/v1/calls', {
                            body: {
                              assistantId: p.assistantId,
                              phoneNumberId: p.id,
                              customer: { number: dialing[p.id] },
                            },
                          }),
                        )
                      }
                    >
                      Call
                    </button>
                  </td>
                  <td className="muted">{formatDate(p.createdAt)}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="btn btn-ghost btn-sm"
                      onClick={() => setShown(shown === p.id ? null : p.id)}
                    >
                      Setup
                    </button>
                    <button
                      type="button"
                      className="btn btn-ghost btn-sm"
                      onClick={() => void act(() => client.request('DELETE', `/v1/phone-numbers/${p.id}`))}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <AddNumber
        assistants={assistants}
        onAdded={(p) => {
          setShown(p.id);
          list.reload();
        }}
      />
    </div>
  );
}
