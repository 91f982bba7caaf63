import { randomInt } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { defaultInputLimits } from '../../src/shared/input-limits.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/**
 * Issue 11 item 3's scenario, shared by its test (`web-call-flood.test.ts`: the call ends at the
 * limit, storage stays linear, `/health` never blocks) and its benchmark (`bench/flood`: the
 * `/health` p99 target, on a quiet machine): one client floods a call at the default per-call
 * limits (user-text of the longest length, as fast as the rate allows, until the conversation
 * limit ends the call) while `/health` is probed back to back.
 */
export interface FloodServer {
  cs: CallServer;
  assistantId: string;
}

export async function startFloodServer(): Promise<FloodServer> {
  const cs = await startCallServer(
    fakeProviders({
      // Echoes the caller in one token (a reply as long as the message, at once).
      llm: new FakeLlm({
        firstTokenMs: 5,
        respond: (messages) =>
          `You said:${messages.findLast((m) => m.role === 'user')?.content.replace(/\s/g, '_')}.`,
      }),
      stt: { finalLatencyMs: 20 },
      tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 1 },
    }),
  );
  const created = await api(cs, 'POST', '/v1/assistants', {
    name: 'flood',
    welcomeMessage: 'Hi!',
    assistantServer: { url: cs.receiver.url },
  });
  if (created.status !== 201) throw new Error(`creating the assistant: ${JSON.stringify(created.json)}`);
  return { cs, assistantId: created.json._id };
}

export interface FloodResult {
  callId: string;
  sent: number;
  sentChars: number;
  closed: { code: number; reason: string } | undefined;
  /** The end-of-call report as the receiver got it. */
  report: { call: Record<string, unknown>; messages: { text: string }[] };
  conversationChars: number;
  events: number;
  /** `/health` round trips during the flood, sorted (ms). */
  healthMs: number[];
  /** The database ping `/health` reported, sorted (ms). */
  databaseMs: number[];
  healthStatuses: number[];
  eventLoopDelayP99Ms: number;
  /** Bytes the call added to the database (tables, indexes, TOAST). */
  storedBytes: number;
}

export const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

export async function floodOneCall({ cs, assistantId }: FloodServer): Promise<FloodResult> {
  const limits = defaultInputLimits;
  const before = await storedBytes(cs);
  const res = await api(cs, 'POST', '/v1/calls', { assistantId });
  if (res.status !== 201) throw new Error(`creating the call: ${JSON.stringify(res.json)}`);
  const callId = res.json.id as string;
  const client = await Client.connect(res.json.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
  await client.waitFor(() => client.of('ready').length === 1);

  // /health, one request after another, for as long as the flood lasts.
  const healthMs: number[] = [];
  const databaseMs: number[] = [];
  const healthStatuses: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let flooding = true;
  const probe = (async () => {
    while (flooding) {
      const started = performance.now();
      const health = await fetch(`${cs.baseUrl}/health`);
      const body = (await health.json()) as { database: { latencyMs: number } };
      healthMs.push(performance.now() - started);
      databaseMs.push(body.database.latencyMs);
      healthStatuses.push(health.status);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  // Most of the burst at once (two tokens left for arrival jitter), then one message per refill
  // interval, until the server ends the call at the conversation limit.
  let sent = 0;
  let sentChars = 0;
  const intervalMs = 1000 / limits.textMessagesPerSecond;
  while (!client.closed && sent < 200) {
    const text = randomText(limits.maxTextChars);
    client.send({ type: 'user-text', text });
    sent++;
    sentChars += text.length;
    if (sent >= limits.textMessageBurst - 2) {
      await Promise.race([
        client.waitClosed(intervalMs).catch(() => {}),
        new Promise((r) => setTimeout(r, intervalMs)),
      ]);
    }
  }
  await client.waitClosed(30_000);
  flooding = false;
  await probe;
  loopDelay.disable();
  await cs.receiver.waitFor(
    () => callEvents(cs, callId).some((m) => m.type === 'end-of-call-report'),
    30_000,
    'end-of-call-report',
  );
  const report = callEvents(cs, callId).at(-1) as FloodResult['report'];
  return {
    callId,
    sent,
    sentChars,
    closed: client.closed,
    report,
    conversationChars: report.messages.reduce((n, m) => n + m.text.length, 0),
    events: callEvents(cs, callId).length,
    healthMs: healthMs.sort((a, b) => a - b),
    databaseMs: databaseMs.sort((a, b) => a - b),
    healthStatuses,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    storedBytes: (await storedBytes(cs)) - before,
  };
}

export function describeFlood(r: FloodResult): string {
  return (
    `${r.sent} user-text sent (${r.sentChars} chars), conversation ${r.conversationChars} chars, ${r.events} events; ` +
    `/health n=${r.healthMs.length} p50=${percentile(r.healthMs, 50).toFixed(1)} ms ` +
    `p99=${percentile(r.healthMs, 99).toFixed(1)} ms max=${(r.healthMs.at(-1) ?? 0).toFixed(1)} ms ` +
    `(database ping p99=${percentile(r.databaseMs, 99).toFixed(1)} ms; ` +
    `event-loop delay p99=${r.eventLoopDelayP99Ms.toFixed(1)} ms); stored ${r.storedBytes} bytes ` +
    `(${(r.storedBytes / r.conversationChars).toFixed(1)} per conversation character)`
  );
}

/** Bytes of every table (with its indexes and TOAST) in the server's schema. */
async function storedBytes(cs: CallServer): Promise<number> {
  const { rows } = await sql<{ bytes: string | number }>`
    select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r'`.execute(cs.server.database.db);
  return Number(rows[0]?.bytes ?? 0);
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
/** Text that does not compress away: random words with random numbers. */
function randomText(chars: number): string {
  let out = '';
  while (out.length < chars) out += `${WORDS[randomInt(WORDS.length)]}${randomInt(1_000_000)} `;
  return out.slice(0, chars);
}
