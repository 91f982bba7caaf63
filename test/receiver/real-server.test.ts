import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationTracker,
  EVENT_TYPES,
  parse,
  parseEvent,
  type TrackerChange,
  verify,
  type WebhookEvent,
  WebhookVerificationError,
} from '../../packages/receiver/src/index.js';
import type { EventMessage as ServerEventMessage } from '../../src/contract/event-schemas.js';
import { serializeEvent } from '../../src/webhooks/delivery/wire-format.js';
import { api, type CallServer, startCallServer } from '../calls/support.js';
import {
  type Delivery,
  runWeatherCall,
  startPackageReceiver,
  until,
  weatherProviders,
  weatherTool,
} from './support.js';

/**
 * A receiver built on @parley/receiver against a real Parley server: real calls (text, with a
 * tool call answered by the receiver) and the server's sample of every event type, in both
 * wire formats, signed with a `whsec_` secret and with a plain non-ASCII one.
 */
const WHSEC = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
// ASCII: a non-ASCII secret cannot travel in the x-interactly-secret header (see the report).
const PLAIN = 'plain-secret-42';

let cs: CallServer;
let interactly: Awaited<ReturnType<typeof startPackageReceiver>>;
let hms: Awaited<ReturnType<typeof startPackageReceiver>>;
let callA = '';
let callB = '';
let assistantA = '';

const createAssistant = async (body: Record<string, unknown>) => {
  const res = await api(cs, 'POST', '/v1/assistants', body);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json._id as string;
};

beforeAll(async () => {
  cs = await startCallServer(weatherProviders());
  interactly = await startPackageReceiver(WHSEC);
  hms = await startPackageReceiver(PLAIN);
  assistantA = await createAssistant({
    name: 'receiver interactly',
    welcomeMessage: 'Hello, weather line.',
    assistantServer: { url: interactly.url, secret: WHSEC },
    tools: [{ ...weatherTool(interactly.url), server: { url: interactly.url, secret: WHSEC } }],
  });
  const assistantB = await createAssistant({
    name: 'receiver hms',
    welcomeMessage: 'Hello, weather line.',
    assistantServer: { url: hms.url, secret: PLAIN, format: 'hms' },
    tools: [{ ...weatherTool(hms.url), server: { url: hms.url, secret: PLAIN } }],
  });
  callA = await runWeatherCall(cs, assistantA);
  callB = await runWeatherCall(cs, assistantB);
  // The server's realistic sample of every event type (hang, error, assistant-request included),
  // through the real signed delivery path.
  for (const [id, receiver] of [
    [assistantA, interactly],
    [assistantB, hms],
  ] as const) {
    for (const type of EVENT_TYPES) {
      const sent = await api(cs, 'POST', `/v1/assistants/${id}/test-webhook`, { type });
      expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    }
    await until(
      () => receiver.deliveries.filter((d) => d.event.message.call.metadata.test).length >= 7,
      'samples',
    );
  }
  for (const [receiver, call] of [
    [interactly, callA],
    [hms, callB],
  ] as const) {
    await until(
      () => receiver.ofCall(call).some((d) => d.event.message.type === 'end-of-call-report'),
      'end-of-call-report',
    );
  }
}, 90_000);
afterAll(async () => {
  await cs?.close();
  await interactly?.close();
  await hms?.close();
});

/** The headers of one scheme only (plus the non-signature headers a delivery has). */
function only(
  headers: Delivery['headers'],
  scheme: 'standard' | 'sha256' | 'secret',
): Record<string, string> {
  const drop = {
    standard: ['x-webhook-signature', 'x-interactly-secret'],
    sha256: ['webhook-signature', 'x-interactly-secret'],
    secret: ['webhook-signature', 'x-webhook-signature'],
  }[scheme];
  return Object.fromEntries(
    Object.entries(headers).filter(([k, v]) => typeof v === 'string' && !drop.includes(k)),
  ) as Record<string, string>;
}

async function rejection(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  return err as WebhookVerificationError;
}

describe('a receiver on @parley/receiver, against a real server', () => {
  it('accepted every delivery (verified with Standard Webhooks, strictly valid), refused none', () => {
    for (const receiver of [interactly, hms]) {
      expect(receiver.refused).toEqual([]);
      expect(receiver.deliveries.length).toBeGreaterThan(10);
      for (const d of receiver.deliveries) expect(d.verified?.scheme).toBe('standard');
    }
    expect(interactly.deliveries.every((d) => d.format === 'interactly')).toBe(true);
    expect(hms.deliveries.every((d) => d.format === 'hms')).toBe(true);
  });

  it('parses every event type in both formats', () => {
    for (const receiver of [interactly, hms]) {
      const types = new Set(receiver.deliveries.map((d) => d.event.message.type));
      expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
    }
    // The real call had its tool call, answered by the package's reply helper.
    for (const [receiver, call] of [
      [interactly, callA],
      [hms, callB],
    ] as const) {
      const report = receiver.ofCall(call).find((d) => d.event.message.type === 'end-of-call-report');
      const texts = (report?.event.message as EventMessage<'end-of-call-report'> | undefined)?.messages.map(
        (m) => m.text,
      );
      expect(texts).toBeDefined();
      expect(texts?.some((t) => /sunny in Paris/.test(t))).toBe(true);
    }
  });

  it('verifies each scheme alone, and rejects a tampered body and a stale timestamp', async () => {
    for (const [receiver, secret] of [
      [interactly, WHSEC],
      [hms, PLAIN],
    ] as const) {
      for (const d of receiver.deliveries) {
        for (const scheme of ['standard', 'sha256', 'secret'] as const) {
          const headers = only(d.headers, scheme);
          await expect(verify(d.rawBody, headers, secret)).resolves.toMatchObject({ scheme });
          if (scheme === 'secret') {
            expect((await rejection(verify(d.rawBody, headers, `${secret}x`))).code).toBe(
              'invalid_signature',
            );
            continue;
          }
          // One byte changed, same length.
          const tampered = new Uint8Array(d.rawBody);
          const at = tampered.indexOf(0x22 /* " */, 20);
          tampered[at + 1] = (tampered[at + 1] ?? 0) ^ 1;
          expect((await rejection(verify(tampered, headers, secret))).code).toBe('invalid_signature');
          // Re-serialised JSON is not the body that was signed (key order, escapes).
          const reserialised = JSON.stringify(JSON.parse(new TextDecoder().decode(d.rawBody)), null, 1);
          expect((await rejection(verify(reserialised, headers, secret))).code).toBe('invalid_signature');
          const ts = Number(d.headers['webhook-timestamp']);
          const stale = await rejection(verify(d.rawBody, headers, secret, { nowMs: (ts + 301) * 1000 }));
          expect(stale.code).toBe('stale_timestamp');
          await expect(
            verify(d.rawBody, headers, secret, { nowMs: (ts + 299) * 1000 }),
          ).resolves.toMatchObject({ scheme });
          expect((await rejection(verify(d.rawBody, headers, 'another secret'))).code).toBe(
            'invalid_signature',
          );
        }
      }
    }
  });

  it('a present but wrong signature is not rescued by a weaker scheme', async () => {
    const d = interactly.deliveries[0] as Delivery;
    const headers = { ...(d.headers as Record<string, string>), 'webhook-signature': 'v1,AAAA' };
    expect((await rejection(verify(d.rawBody, headers, WHSEC))).field).toBe('webhook-signature');
    const none = only(d.headers, 'secret');
    delete none['x-interactly-secret'];
    expect((await rejection(verify(d.rawBody, none, WHSEC))).code).toBe('missing_signature');
  });

  it('hms bodies parse to exactly the default-format event (the server converter, inverted)', () => {
    for (const d of interactly.deliveries) {
      const event = parse(d.rawBody, { strict: true });
      const asHms = serializeEvent(event.message as unknown as ServerEventMessage, 'hms');
      const back = parseEvent(asHms, { strict: true });
      expect(back.format).toBe('hms');
      expect(back.event).toEqual(event);
    }
  });

  it('the tracker yields each message once, in order, through duplicates, reordering, replays and a store', async () => {
    const events = interactly.ofCall(callA).map((d) => d.event);
    const report = events.find((e) => e.message.type === 'end-of-call-report') as WebhookEvent;
    const expected = (report.message as EventMessage<'end-of-call-report'>).messages.map((m) => m.messageId);
    expect(expected.length).toBeGreaterThanOrEqual(5); // welcome, user, assistant (tool), user, assistant

    // Real replays: the server sends two of the call's deliveries again (same id, same body).
    const log = await api(cs, 'GET', `/v1/webhook-deliveries?callId=${callA}`);
    const conversationUpdates = (log.json.data as { id: string; eventType: string }[]).filter(
      (r) => r.eventType === 'conversation-update',
    );
    const before = interactly.ofCall(callA).length;
    for (const r of conversationUpdates.slice(0, 2)) {
      const replayed = await api(cs, 'POST', `/v1/webhook-deliveries/${r.id}/replay`);
      expect(replayed.status, JSON.stringify(replayed.json)).toBeLessThan(300);
    }
    await until(() => interactly.ofCall(callA).length >= before + 2, 'replays');
    const all = interactly.ofCall(callA).map((d) => d.event);

    // Deterministic shuffles, with every event twice.
    for (const seed of [1, 2, 3, 4, 5]) {
      let x = seed;
      const random = () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x / 2 ** 31;
      };
      const feed = [...all, ...all].sort(() => random() - 0.5);
      let tracker = new ConversationTracker();
      const changes: TrackerChange[] = [];
      for (const [i, event] of feed.entries()) {
        changes.push(...tracker.push(event).changes);
        // The receiver keeps the state in its own store between requests.
        if (i % 3 === 0) tracker = new ConversationTracker(JSON.parse(JSON.stringify(tracker.toJSON())));
      }
      const messages = changes.filter((c) => c.kind === 'message').map((c) => c.message.messageId);
      // Every message once; order: each message after the ones before it in the conversation.
      expect([...messages].sort()).toEqual([...expected].sort());
      const newest = changes.filter((c) => c.kind === 'message');
      for (const c of newest) {
        const index = expected.indexOf(c.message.messageId);
        const earlier = expected.slice(0, index);
        const emittedBefore = messages.slice(0, messages.indexOf(c.message.messageId));
        expect(
          earlier.every((id) => emittedBefore.includes(id)),
          `${c.message.messageId} in order`,
        ).toBe(true);
      }
      const statuses = changes.filter((c) => c.kind === 'status').map((c) => c.status);
      expect(new Set(statuses).size).toBe(statuses.length);
      expect(statuses.at(-1)).toBe('finished');
      expect(changes.filter((c) => c.kind === 'report')).toHaveLength(1);
      expect(tracker.messageIds(callA)).toEqual(messages);
    }
  });
});

type EventMessage<T extends (typeof EVENT_TYPES)[number]> = Extract<WebhookEvent['message'], { type: T }>;
