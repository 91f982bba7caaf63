import { useCallback, useMemo, useState } from 'react';
import { useLocation } from 'wouter';
import type { Call, CallStatus, LiveEvent } from '../../../browser-sdk/src/index.js';
import { LiveBadge } from '../components/LiveBadge.js';
import { Card, EmptyState, ErrorBanner, PageHeader, Spinner, StatusPill } from '../components/ui.js';
import { formatDate, formatDuration, formatUsd, shortId } from '../lib/format.js';
import { LoadMore } from '../lib/load-more.js';
import { useClient } from '../lib/session.js';
import { useAsync } from '../lib/use-async.js';
import { useLiveEvents } from '../lib/use-live.js';

const STATUSES: CallStatus[] = ['queued', 'ongoing', 'finished', 'forwarded'];

function mergeCall(list: Call[], call: Call): Call[] {
  const i = list.findIndex((c) => c.id === call.id);
  if (i === -1) return [call, ...list].sort((a, b) => (a.startAt < b.startAt ? 1 : -1));
  const next = [...list];
  next[i] = call;
  return next;
}

export function CallsPage() {
  const client = useClient();
  const [, navigate] = useLocation();
  const [status, setStatus] = useState<CallStatus | ''>('');
  const [assistantId, setAssistantId] = useState('');
  const assistants = useAsync((signal) => client.listAssistants({ limit: 100 }, signal), [client]);
  const calls = useAsync(
    (signal) =>
      client.listCalls(
        { limit: 50, ...(status ? { status } : {}), ...(assistantId ? { assistantId } : {}) },
        signal,
      ),
    [client, status, assistantId],
  );
  const { setData, reload } = calls;

  const onEvent = useCallback(
    (event: LiveEvent) => {
      const call = event.event.call;
      if (status && call.status !== status) {
        setData((page) =>
          page
            ? { ...page, data: page.data.filter((c) => c.id !== call.id) }
            : (page ?? { data: [], nextCursor: null }),
        );
        return;
      }
      if (assistantId && call.assistantId !== assistantId) return;
      setData((page) => ({ data: mergeCall(page?.data ?? [], call), nextCursor: page?.nextCursor ?? null }));
    },
    [setData, status, assistantId],
  );
  const { connected } = useLiveEvents(client, { onEvent, onPoll: reload });

  const names = useMemo(
    () => new Map((assistants.data?.data ?? []).map((a) => [a._id, a.name] as const)),
    [assistants.data],
  );
  const rows = calls.data?.data ?? [];

  return (
    <div className="page">
      <PageHeader
        title="Calls"
        subtitle="Every web and phone call; new calls and status changes appear as they happen."
        actions={<LiveBadge connected={connected} />}
      />
      <ErrorBanner error={calls.error} />
      <div className="filters">
        <select
          value={status}
          onChange={(e) => setStatus(e.target.value as CallStatus | '')}
          aria-label="Status"
        >
          <option value="">All statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select value={assistantId} onChange={(e) => setAssistantId(e.target.value)} aria-label="Assistant">
          <option value="">All assistants</option>
          {(assistants.data?.data ?? []).map((a) => (
            <option key={a._id} value={a._id}>
              {a.name}
            </option>
          ))}
        </select>
      </div>
      <Card>
        {calls.loading && !calls.data ? (
          <Spinner />
        ) : rows.length === 0 ? (
          <EmptyState title="No calls yet" icon="☎">
            <p>Start one from an assistant's Talk page, or with POST /v1/calls.</p>
          </EmptyState>
        ) : (
          <table className="table table-clickable" data-testid="calls-table">
            <thead>
              <tr>
                <th>Call</th>
                <th>Assistant</th>
                <th>Status</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Ended by</th>
                <th className="num">Cost</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr
                  key={c.id}
                  data-testid="call-row"
                  data-call-id={c.id}
                  data-status={c.status}
                  onClick={() => navigate(`/calls/${c.id}`)}
                >
                  <td>
                    <div className="cell-title mono">{shortId(c.id)}</div>
                    <div className="cell-sub">
                      {c.callType} · {c.direction}
                      {c.callType === 'phone' ? ` · ${c.userNumber} ↔ ${c.assistantNumber}` : ''}
                    </div>
                  </td>
                  <td>
                    {names.get(c.assistantId) ?? (
                      <span className="muted mono">{shortId(c.assistantId || '—')}</span>
                    )}
                  </td>
                  <td>
                    <StatusPill status={c.status} />
                    <div className="cell-sub">{c.phoneCallStatus}</div>
                  </td>
                  <td className="muted">{formatDate(c.startAt)}</td>
                  <td>{formatDuration(c.assistantCallDuration)}</td>
                  <td className="muted">{c.callEndTriggerBy || '—'}</td>
                  <td className="num">{formatUsd(c.cost?.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <LoadMore
          list={calls}
          fetchPage={(cursor) =>
            client.listCalls({
              limit: 50,
              cursor,
              ...(status ? { status } : {}),
              ...(assistantId ? { assistantId } : {}),
            })
          }
          idOf={(c) => c.id}
          label="Load older calls"
          testId="load-more-calls"
        />
      </Card>
    </div>
  );
}
