import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'wouter';
import {
  type Call,
  type ConversationMessage,
  type EventMessage,
  type LiveEvent,
  ParleyApiError,
  type ParleyClient,
  type WebhookDelivery,
} from '../../../browser-sdk/src/index.js';
import { Deliveries } from '../components/Deliveries.js';
import { LiveBadge } from '../components/LiveBadge.js';
import {
  Card,
  EmptyState,
  ErrorBanner,
  JsonView,
  PageHeader,
  Spinner,
  Stat,
  StatusPill,
} from '../components/ui.js';
import { eventOfPayload, messagesOf, messagesOfDelivery, turnLatencies } from '../lib/conversation.js';
import { formatDate, formatDuration, formatMs, formatUsd } from '../lib/format.js';
import { useClient } from '../lib/session.js';
import { useLiveEvents } from '../lib/use-live.js';

// The chart library is most of the bundle's weight: loaded with the first call detail opened.
const MetricsChart = lazy(() =>
  import('../components/MetricsChart.js').then((m) => ({ default: m.MetricsChart })),
);

/** Whether the server has `GET /v1/calls/:id/events` (learnt from the first 404 "no route"). */
let callEventsRoute = true;

const WITH_MESSAGES = new Set(['end-of-call-report', 'hang', 'error', 'conversation-update']);

/** The newest recorded event that carries the conversation, through every page of the call's events. */
async function lastEventWithMessages(client: ParleyClient, id: string, signal?: AbortSignal) {
  let last: LiveEvent | undefined;
  let cursor: string | null | undefined;
  do {
    const page = await client.listCallEvents(id, cursor ? { cursor } : {}, signal);
    last = page.data.filter((e) => WITH_MESSAGES.has(e.type)).at(-1) ?? last;
    cursor = page.nextCursor;
  } while (cursor);
  return last;
}

function Messages({ messages, callStart }: { messages: ConversationMessage[]; callStart: number }) {
  if (messages.length === 0) {
    return (
      <div data-testid="call-messages">
        <EmptyState title="No messages yet" icon="…">
          <p>Messages appear here as the call goes.</p>
        </EmptyState>
      </div>
    );
  }
  return (
    <div className="messages" data-testid="call-messages">
      {messages.map((m) => {
        const at = m.metrics.timeline?.totalElapsedTimeMs ?? Math.max(0, m.timestamp - callStart);
        const chips: string[] = [];
        if (m.metrics.stt?.confidence !== undefined)
          chips.push(`conf ${m.metrics.stt.confidence.toFixed(2)}`);
        if (m.metrics.llm?.responseLatencyMs !== undefined)
          chips.push(`LLM ${formatMs(m.metrics.llm.responseLatencyMs)}`);
        if (m.metrics.tts?.generationTimeMs !== undefined)
          chips.push(
            `TTS ${formatMs(m.metrics.tts.generationTimeMs)}${m.metrics.tts.isCachePlaying ? ' (cache)' : ''}`,
          );
        if (m.metrics.timeline?.offsetFromPreviousTurnMs !== undefined)
          chips.push(`+${formatMs(m.metrics.timeline.offsetFromPreviousTurnMs)}`);
        return (
          <div
            key={m.messageId}
            className={`message message-${m.role}${m.interrupted ? ' message-interrupted' : ''}`}
            data-testid="call-message"
            data-role={m.role}
            data-interrupted={m.interrupted ? 'true' : 'false'}
            data-message-id={m.messageId}
          >
            <div className="message-meta">
              <span className="message-role">{m.role === 'user' ? 'Caller' : 'Assistant'}</span>
              <span className="muted mono">{formatDuration(at) === '—' ? '0s' : formatDuration(at)}</span>
              {m.interrupted ? <span className="tag tag-warn tag-sm">interrupted</span> : null}
            </div>
            <div className="message-text">{m.text}</div>
            {m.skippedAssistantMessages?.length ? (
              <div className="skipped">
                {m.skippedAssistantMessages.map((s) => (
                  <div key={s.messageId} className="skipped-item" title="never played">
                    {s.text}
                  </div>
                ))}
              </div>
            ) : null}
            {chips.length ? (
              <div className="chips">
                {chips.map((c) => (
                  <span key={c} className="chip">
                    {c}
                  </span>
                ))}
              </div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}

function Recording({ call, reportUrl }: { call: Call; reportUrl: string | undefined }) {
  const client = useClient();
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [error, setError] = useState('');
  const has = Boolean(call.recording.path);
  const finished = call.status === 'finished' || call.status === 'forwarded';

  useEffect(() => {
    if (!finished || !has) return;
    if (reportUrl) {
      setUrl(reportUrl);
      return;
    }
    let objectUrl: string | undefined;
    let cancelled = false;
    client
      .recordingUrl(call.id)
      .then((u) => {
        objectUrl = u;
        if (cancelled) URL.revokeObjectURL(u);
        else setUrl(u);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [client, call.id, finished, has, reportUrl]);

  if (url) {
    return (
      <audio controls src={url} className="recording" data-testid="recording-player" preload="metadata">
        <track kind="captions" />
      </audio>
    );
  }
  return (
    <div className="muted small" data-testid="recording-player" data-available="false">
      {error || (!finished ? 'Available when the call ends.' : has ? 'Loading…' : 'Not recorded.')}
    </div>
  );
}

export function CallDetailPage({ id }: { id: string }) {
  const client = useClient();
  const [call, setCall] = useState<Call | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [messages, setMessages] = useState<ConversationMessage[]>([]);
  const [report, setReport] = useState<EventMessage<'end-of-call-report'> | undefined>(undefined);
  const [deliveries, setDeliveries] = useState<WebhookDelivery[]>([]);
  const lastSequence = useRef(0);

  const applyEvent = useCallback((event: EventMessage, sequence: number) => {
    setCall((current) => (current && sequence < lastSequence.current ? current : event.call));
    const carried = WITH_MESSAGES.has(event.type) ? messagesOf(event) : undefined;
    if (carried && sequence >= lastSequence.current) setMessages(carried);
    if (event.type === 'end-of-call-report') setReport(event as EventMessage<'end-of-call-report'>);
    lastSequence.current = Math.max(lastSequence.current, sequence);
  }, []);

  /** The call, and its conversation from the newest logged event that carries messages. */
  const refresh = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const [fresh, page] = await Promise.all([
          client.getCall(id, signal),
          client.listDeliveries({ callId: id, limit: 100 }, signal),
        ]);
        setCall((current) => (lastSequence.current > 0 && current ? { ...current, ...fresh } : fresh));
        setDeliveries(page.data);
        // The call's recorded events, when the server has the route; else the delivery log.
        const withMessages = callEventsRoute
          ? await lastEventWithMessages(client, id, signal).catch((e: unknown) => {
              if (e instanceof ParleyApiError && e.status === 404 && e.message.startsWith('no route'))
                callEventsRoute = false;
              return undefined;
            })
          : undefined;
        if (withMessages && withMessages.sequence > lastSequence.current) {
          applyEvent(withMessages.event, withMessages.sequence);
        }
        const newest = [...page.data]
          .filter((d) => WITH_MESSAGES.has(d.eventType))
          .sort((a, b) => b.sequence - a.sequence)[0];
        if (newest && newest.sequence > lastSequence.current) {
          const detail = await client.getDelivery(newest.id, signal);
          const event = eventOfPayload(detail.payload);
          const carried = messagesOfDelivery(detail);
          if (event && carried) applyEvent(event, newest.sequence);
        }
        setError(null);
      } catch (e) {
        if (!signal?.aborted) setError(e);
      }
    },
    [client, id, applyEvent],
  );

  useEffect(() => {
    lastSequence.current = 0;
    setCall(null);
    setMessages([]);
    setReport(undefined);
    const controller = new AbortController();
    void refresh(controller.signal);
    return () => controller.abort();
  }, [refresh]);

  const live = call?.status === 'queued' || call?.status === 'ongoing';
  const deliveriesTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onEvent = useCallback(
    (e: LiveEvent) => {
      if (e.callId !== id) return;
      applyEvent(e.event, e.sequence);
      // Each event may have created deliveries: refetch the log, at most every 500 ms.
      clearTimeout(deliveriesTimer.current);
      deliveriesTimer.current = setTimeout(() => {
        client
          .listDeliveries({ callId: id, limit: 100 })
          .then((p) => setDeliveries(p.data))
          .catch(() => undefined);
      }, 500);
    },
    [client, id, applyEvent],
  );
  const { connected } = useLiveEvents(client, {
    callId: id,
    onEvent,
    onPoll: () => void refresh(),
  });
  useEffect(() => () => clearTimeout(deliveriesTimer.current), []);

  const turns = useMemo(() => turnLatencies(messages), [messages]);

  if (error && !call) return <ErrorBanner error={error} />;
  if (!call) return <Spinner />;

  const analysis = call.analysis;
  const cost = call.cost;
  const callStart = new Date(call.startAt).getTime();

  return (
    <div className="page">
      <PageHeader
        title={
          <span className="row gap">
            Call <span className="mono title-id">{call.id}</span>
          </span>
        }
        subtitle={
          <>
            <Link href={`/assistants/${call.assistantId}`} className="link">
              assistant
            </Link>{' '}
            · {call.callType} · {call.direction}
            {call.callType === 'phone' ? ` · caller ${call.userNumber} · number ${call.assistantNumber}` : ''}{' '}
            · started {formatDate(call.startAt)}
          </>
        }
        actions={
          <>
            <LiveBadge connected={connected} />
            <Link href="/calls" className="btn btn-ghost">
              All calls
            </Link>
            {live ? (
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => void client.endCall(call.id).then(setCall)}
              >
                End call
              </button>
            ) : null}
          </>
        }
      />
      <ErrorBanner error={error} />
      <div className="stats">
        <Stat label="Status" value={<StatusPill status={call.status} testId="detail-status" />} />
        <Stat label="Phone status" value={call.phoneCallStatus} />
        <Stat label="Duration" value={formatDuration(call.assistantCallDuration)} />
        <Stat label="Ended by" value={call.callEndTriggerBy || '—'} />
        <Stat label="Messages" value={messages.length} />
        <Stat label="Cost" value={formatUsd(cost?.total)} />
      </div>
      <div className="detail-layout">
        <div className="detail-main">
          <Card
            title="Conversation"
            actions={
              live ? (
                <span className="pill pill-live">
                  <span className="pulse" />
                  live
                </span>
              ) : null
            }
          >
            <Messages messages={messages} callStart={callStart} />
          </Card>
          <Card title="Latency per turn">
            {turns.length === 0 ? (
              <div data-testid="metrics-chart" className="metrics-chart">
                <EmptyState title="No assistant turns yet" icon="▤" />
              </div>
            ) : (
              <Suspense fallback={<Spinner label="Loading chart" />}>
                <MetricsChart turns={turns} />
              </Suspense>
            )}
            {call.metrics ? (
              <div className="stats stats-sm">
                <Stat label="Bot response (avg)" value={formatMs(call.metrics.botResponseTimeMs.averageMs)} />
                <Stat label="STT avg" value={formatMs(call.metrics.latency.stt?.averageMs)} />
                <Stat label="LLM avg" value={formatMs(call.metrics.latency.llm?.averageMs)} />
                <Stat label="TTS avg" value={formatMs(call.metrics.latency.tts?.averageMs)} />
                <Stat label="Interrupted" value={call.metrics.turns.interrupted} />
              </div>
            ) : null}
          </Card>
        </div>
        <div className="detail-side">
          <Card title="Recording">
            <Recording call={call} reportUrl={report?.recordingUrl} />
          </Card>
          <Card title="Analysis">
            <div data-testid="call-analysis" className="analysis">
              {analysis.summary ||
              analysis.successEvaluation !== undefined ||
              analysis.structuredData ||
              analysis.error ? (
                <>
                  {analysis.summary ? (
                    <div className="analysis-block">
                      <div className="field-label">Summary</div>
                      <p>{analysis.summary}</p>
                    </div>
                  ) : null}
                  {analysis.successEvaluation !== undefined ? (
                    <div className="analysis-block">
                      <div className="field-label">Success evaluation</div>
                      <span className="tag">{String(analysis.successEvaluation)}</span>
                    </div>
                  ) : null}
                  {analysis.structuredData ? (
                    <div className="analysis-block">
                      <div className="field-label">Structured data</div>
                      <JsonView value={analysis.structuredData} />
                    </div>
                  ) : null}
                  {analysis.error ? (
                    <div className="banner banner-warn small">Analysis failed: {analysis.error}</div>
                  ) : null}
                  {report?.endedReason ? (
                    <div className="analysis-block">
                      <div className="field-label">Ended reason</div>
                      <span className="mono">{report.endedReason}</span>
                    </div>
                  ) : null}
                </>
              ) : (
                <p className="muted small">{live ? 'Computed when the call ends.' : 'No analysis.'}</p>
              )}
            </div>
          </Card>
          <Card title="Cost">
            <div data-testid="call-cost" className="cost">
              {cost ? (
                <>
                  <div className="cost-total">{formatUsd(cost.total)}</div>
                  <table className="table compact">
                    <tbody>
                      {cost.breakdown.map((line) => (
                        <tr key={`${line.kind}-${line.vendor}-${line.unit}-${line.model ?? ''}`}>
                          <td>
                            <span className="tag tag-sm">{line.kind}</span> {line.vendor}
                            {line.model ? <span className="muted"> · {line.model}</span> : null}
                          </td>
                          <td className="muted small">
                            {Number(line.quantity.toFixed(3))} {line.unit}
                          </td>
                          <td className="num">
                            {line.priced ? formatUsd(line.costUsd) : <span className="muted">unpriced</span>}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              ) : (
                <p className="muted small">{live ? 'Computed when the call ends.' : 'No cost recorded.'}</p>
              )}
            </div>
          </Card>
        </div>
      </div>
      <Card title="Webhook deliveries">
        <Deliveries deliveries={deliveries} onReplayed={() => void refresh()} />
      </Card>
    </div>
  );
}
