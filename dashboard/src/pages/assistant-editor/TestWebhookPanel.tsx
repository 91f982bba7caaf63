import { useState } from 'react';
import type { EventType, TestWebhookResult } from '../../../../browser-sdk/src/index.js';
import { JsonView } from '../../components/ui.js';
import { errorMessage, formatMs } from '../../lib/format.js';
import { useClient } from '../../lib/session.js';
import { EVENT_TYPES } from './options.js';

/** "Send test event": one realistic sample event to the saved webhook, and the receiver's reply. */
export function TestWebhookPanel({ assistantId }: { assistantId: string }) {
  const client = useClient();
  const [type, setType] = useState<EventType>('end-of-call-report');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestWebhookResult | null>(null);
  const [error, setError] = useState('');
  const [showEvent, setShowEvent] = useState(false);

  const send = async () => {
    setBusy(true);
    setError('');
    setResult(null);
    try {
      setResult(await client.testWebhook(assistantId, type));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="test-webhook">
      <div className="row gap">
        <select value={type} onChange={(e) => setType(e.target.value as EventType)} aria-label="Event type">
          {EVENT_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-secondary"
          onClick={send}
          disabled={busy}
          data-testid="test-webhook-button"
        >
          {busy ? 'Sending…' : 'Send test event'}
        </button>
        <span className="muted small">Uses the saved settings; save first.</span>
      </div>
      {result || error ? (
        <div
          className={`test-result ${result?.ok ? 'ok' : 'bad'}`}
          data-testid="test-webhook-result"
          data-ok={result?.ok ? 'true' : 'false'}
        >
          {error ? (
            <div>{error}</div>
          ) : result ? (
            <>
              <div className="row gap">
                <strong>{result.ok ? 'Delivered' : 'Failed'}</strong>
                <span className="tag">{result.statusCode ?? 'no response'}</span>
                <span className="muted">{formatMs(result.latencyMs)}</span>
                {result.error ? <span className="text-bad">{result.error}</span> : null}
              </div>
              <div className="field-label">Reply</div>
              <pre className="json small">{result.responseSnippet || '(empty body)'}</pre>
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => setShowEvent((s) => !s)}>
                {showEvent ? 'Hide' : 'Show'} the event sent
              </button>
              {showEvent ? <JsonView value={result.event} /> : null}
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
