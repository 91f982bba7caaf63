import { useEffect, useState } from 'react';
import type { WebhookDelivery, WebhookDeliveryDetail } from '../../../browser-sdk/src/index.js';
import { errorMessage, formatDate, formatMs } from '../lib/format.js';
import { useClient } from '../lib/session.js';
import { EmptyState, JsonView, StatusPill } from './ui.js';

/** A call's webhook deliveries, one selected: its attempts, the payload, and Replay. */
export function Deliveries({
  deliveries,
  onReplayed,
}: {
  deliveries: WebhookDelivery[];
  onReplayed: () => void;
}) {
  const client = useClient();
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<WebhookDeliveryDetail | null>(null);
  const [error, setError] = useState('');
  const [replaying, setReplaying] = useState(false);
  const [replayed, setReplayed] = useState('');
  const current = selected ?? deliveries[0]?.id ?? null;
  const currentRow = deliveries.find((d) => d.id === current);
  const version = `${currentRow?.status}-${currentRow?.attemptCount}`;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` refetches when the delivery gets a new attempt
  useEffect(() => {
    if (!current) {
      setDetail(null);
      return;
    }
    const controller = new AbortController();
    client
      .getDelivery(current, controller.signal)
      .then((d) => {
        setDetail(d);
        setError('');
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(e));
      });
    return () => controller.abort();
  }, [client, current, version]);

  const replay = async () => {
    if (!current) return;
    setReplaying(true);
    setReplayed('');
    try {
      const created = await client.replayDelivery(current);
      setReplayed(`Replayed as ${created.id}`);
      onReplayed();
    } catch (e) {
      setReplayed(errorMessage(e));
    } finally {
      setReplaying(false);
    }
  };

  if (deliveries.length === 0) {
    return (
      <div data-testid="deliveries">
        <EmptyState title="No webhook deliveries" icon="⇄">
          <p>Set a webhook URL on the assistant to receive this call's events.</p>
        </EmptyState>
      </div>
    );
  }

  return (
    <div className="deliveries-layout">
      <div className="deliveries-list" data-testid="deliveries">
        <table className="table table-clickable compact">
          <thead>
            <tr>
              <th>#</th>
              <th>Event</th>
              <th>Status</th>
              <th className="num">Attempts</th>
              <th>Last</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr
                key={d.id}
                className={d.id === current ? 'selected' : ''}
                data-testid="delivery-row"
                data-delivery-id={d.id}
                data-event-type={d.eventType}
                data-status={d.status}
                onClick={() => setSelected(d.id)}
              >
                <td className="muted">{d.sequence}</td>
                <td>
                  <span className="mono">{d.eventType}</span>
                  {d.replayOf ? <span className="tag tag-sm">replay</span> : null}
                </td>
                <td>
                  <StatusPill status={d.status} />
                </td>
                <td className="num">{d.attemptCount}</td>
                <td className="muted">{d.lastStatusCode ?? (d.lastError ? 'error' : '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="delivery-detail">
        {error ? <div className="banner banner-error">{error}</div> : null}
        {detail ? (
          <>
            <div className="row space">
              <div>
                <div className="cell-title mono">{detail.eventType}</div>
                <div className="cell-sub">
                  → {detail.target.url} · {detail.target.format} ·{' '}
                  {detail.target.signed ? 'signed' : 'unsigned'}
                </div>
              </div>
              <button
                type="button"
                className="btn btn-secondary btn-sm"
                onClick={replay}
                disabled={replaying}
                data-testid="replay-button"
              >
                {replaying ? 'Replaying…' : '↻ Replay'}
              </button>
            </div>
            {replayed ? <div className="banner banner-ok small">{replayed}</div> : null}
            <h3 className="section-title">Attempts</h3>
            {detail.attempts.length === 0 ? (
              <p className="muted small">
                No attempt yet{detail.nextAttemptAt ? ` (next ${formatDate(detail.nextAttemptAt)})` : ''}.
              </p>
            ) : (
              <table className="table compact" data-testid="attempts">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>Status</th>
                    <th className="num">Latency</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.attempts.map((a) => (
                    <tr key={a.id} data-testid="attempt-row" title={a.responseSnippet}>
                      <td className="muted">{formatDate(a.attemptedAt)}</td>
                      <td>
                        <span className={`tag ${a.statusCode && a.statusCode < 300 ? 'tag-ok' : 'tag-bad'}`}>
                          {a.statusCode ?? '—'}
                        </span>
                      </td>
                      <td className="num">{formatMs(a.latencyMs)}</td>
                      <td className="text-bad small">{a.error ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <h3 className="section-title">Payload</h3>
            <JsonView value={detail.payload} testId="payload-viewer" />
          </>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    </div>
  );
}
