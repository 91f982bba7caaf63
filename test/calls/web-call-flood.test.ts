import { randomInt } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultInputLimits } from '../../src/engine/input-limits.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client, callEvents, startCallServer } from './support.js';

/**
 * Issue 11 item 3: one client flooding a call at the default per-call limits (user-text of the
 * longest length, as fast as the rate allows, until the conversation limit ends the call).
 * Meanwhile `/health` stays fast (p99 under 100 ms), and what the call leaves in the database
 * grows linearly with the conversation, not with its square.
 */
let cs: CallServer;
let assistantId: string;

beforeAll(async () => {
  cs = await startCallServer(
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
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  assistantId = created.json._id;
});
afterAll(() => cs?.close());

/** Bytes of every table (with its indexes and TOAST) in this test's schema. */
async function storedBytes(): Promise<number> {
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

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

describe('a client flooding one call at the per-call limits', () => {
  it('keeps /health under 100 ms p99 and storage linear in the conversation', {
    timeout: 90_000,
  }, async () => {
    const limits = defaultInputLimits;
    const before = await storedBytes();
    const res = await api(cs, 'POST', '/v1/calls', { assistantId });
    expect(res.status).toBe(201);
    const callId = res.json.id as string;
    const client = await Client.connect(res.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
    await client.waitFor(() => client.of('ready').length === 1);

    // /health, one request after another, for as long as the flood lasts.
    const latencies: number[] = [];
    const dbLatencies: number[] = [];
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    let flooding = true;
    const probe = (async () => {
      while (flooding) {
        const started = performance.now();
        const health = await fetch(`${cs.baseUrl}/health`);
        const body = (await health.json()) as { database: { latencyMs: number } };
        latencies.push(performance.now() - started);
        dbLatencies.push(body.database.latencyMs);
        expect(health.status).toBe(200);
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

    expect(client.closed).toEqual({
      code: 4008,
      reason: `Call limit reached: conversation over ${limits.maxConversationChars} characters`,
    });
    await cs.receiver.waitFor(
      () => callEvents(cs, callId).some((m) => m.type === 'end-of-call-report'),
      30_000,
      'end-of-call-report',
    );
    const report = callEvents(cs, callId).at(-1);
    expect(report.call).toMatchObject({ phoneCallStatus: 'ended-with-error', callEndTriggerBy: 'system' });
    const conversationChars = (report.messages as { text: string }[]).reduce((n, m) => n + m.text.length, 0);
    // The limit refuses what the client adds; the reply in flight may finish past it.
    expect(conversationChars).toBeLessThanOrEqual(limits.maxConversationChars + limits.maxTextChars + 20);

    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = percentile(sorted, 99);
    const stored = (await storedBytes()) - before;
    console.log(
      `flood: ${sent} user-text sent (${sentChars} chars), conversation ${conversationChars} chars, ` +
        `${callEvents(cs, callId).length} events; /health n=${sorted.length} p50=${percentile(sorted, 50).toFixed(1)} ms ` +
        `p99=${p99.toFixed(1)} ms max=${(sorted.at(-1) ?? 0).toFixed(1)} ms ` +
        `(its database ping p99=${percentile(
          [...dbLatencies].sort((a, b) => a - b),
          99,
        ).toFixed(1)} ms; ` +
        `event-loop delay p99=${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms); stored ${stored} bytes ` +
        `(${(stored / conversationChars).toFixed(1)} per conversation character)`,
    );
    expect(sorted.length).toBeGreaterThan(50);
    expect(p99).toBeLessThan(100);
    // Linear: the call's events, deliveries and messages take a small multiple of its
    // conversation. Storing the whole history in every conversation-update (quadratic) takes
    // about as many times the conversation as there are turns (here over 25).
    expect(stored).toBeLessThan(8 * conversationChars);
  });
});
