import { describe, expect, it } from 'vitest';
import {
  type ConversationMessage,
  ConversationTracker,
  parse,
  sign,
  verify,
  type WebhookEvent,
  WebhookParseError,
} from '../../packages/receiver/src/index.js';
import { buildSignedHeaders } from '../../src/shared/webhook-signing.js';

describe('sign and verify', () => {
  it('signs byte for byte as the server does, for whsec_ and plain secrets', async () => {
    for (const secret of ['whsec_MDEyMzQ1Njc4OWFiY2RlZg==', 'plain-secret', 'sécret']) {
      const body = '{"message":{"type":"status-update","text":"héllo"}}';
      const server = buildSignedHeaders({
        eventId: 'evt_1',
        eventType: 'status-update',
        timestampMs: 1_700_000_000_500,
        body,
        secret,
      });
      const ours = await sign({
        secret,
        id: 'evt_1',
        type: 'status-update',
        body,
        timestampSeconds: 1_700_000_000,
      });
      expect(ours).toEqual(server);
      await expect(verify(body, server, secret, { nowMs: 1_700_000_010_000 })).resolves.toMatchObject({
        scheme: 'standard',
        id: 'evt_1',
        timestampSeconds: 1_700_000_000,
      });
    }
  });

  it('accepts any of several Standard Webhooks signatures (key rotation) and refuses malformed input', async () => {
    const body = '{}';
    const headers = await sign({ secret: 'new', id: 'evt_2', type: 'hang', body });
    const old = await sign({ secret: 'old', id: 'evt_2', type: 'hang', body });
    const rotated = {
      ...headers,
      'webhook-signature': `${old['webhook-signature']} ${headers['webhook-signature']}`,
    };
    await expect(verify(body, rotated, 'new')).resolves.toMatchObject({ scheme: 'standard' });
    await expect(verify(body, { ...headers, 'webhook-timestamp': 'soon' }, 'new')).rejects.toMatchObject({
      code: 'invalid_timestamp',
      field: 'webhook-timestamp',
    });
    await expect(verify(body, headers, '')).rejects.toMatchObject({ code: 'invalid_secret' });
    await expect(verify(body, headers, 'whsec_%%%')).rejects.toMatchObject({ code: 'invalid_secret' });
    await expect(verify(body, new Headers(headers), 'new')).resolves.toMatchObject({ scheme: 'standard' });
    await expect(verify(body, headers, 'new', { schemes: ['sha256'] })).resolves.toMatchObject({
      scheme: 'sha256',
    });
  });
});

describe('parse', () => {
  it('names the field at fault', () => {
    expect(() => parse('{nope')).toThrow(WebhookParseError);
    try {
      parse('{"message": {"type": "status-update", "id": "evt_1"}}');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_event', field: 'message.timestamp' });
    }
    try {
      parse({ message: { type: 'call-started' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'unknown_event_type', field: 'message.type' });
    }
    try {
      parse('[]');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_event', field: 'message' });
    }
    expect(() => parse(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/UTF-8/);
  });
});

const msg = (
  messageId: string,
  role: 'user' | 'assistant',
  text: string,
  extra: Partial<ConversationMessage> = {},
) => ({ messageId, role, text, timestamp: 1, metrics: {}, ...extra }) as ConversationMessage;

function event(sequence: number, messages: ConversationMessage[], status = 'ongoing'): WebhookEvent {
  return {
    message: {
      type: 'conversation-update',
      id: `evt_${sequence}`,
      sequence,
      timestamp: sequence,
      call: {
        id: 'WC-1',
        status,
        phoneCallStatus: status === 'ongoing' ? 'in-progress' : 'completed',
        phoneCallStatusReason: '',
      },
      messages,
    },
  } as unknown as WebhookEvent;
}

describe('ConversationTracker', () => {
  const w = msg('welcome-1', 'assistant', 'Hello there, how can I help?');
  const u1 = msg('user-1', 'user', 'book a table');
  const a1 = msg('user-1-x-1', 'assistant', 'Sure, for how many people would you like it?');
  const a1cut = { ...a1, text: 'Sure, for how', interrupted: true };
  const u2 = msg('user-2', 'user', 'two', {
    skippedAssistantMessages: [{ messageId: 'user-1-y-2', text: 'Any time preference?', timestamp: 2 }],
  });
  const history = [
    event(1, [w]),
    event(2, [w, u1]),
    event(3, [w, u1, a1]),
    event(4, [w, u1, a1cut, u2]),
    event(5, [w, u1, a1cut, u2], 'finished'),
  ];

  it('reports messages once in order, the interruption and the skipped reply once, the status changes once', () => {
    const tracker = new ConversationTracker();
    const changes = [history[4], history[0], history[3], history[3], history[1], history[2]].flatMap(
      (e) => tracker.push(e as WebhookEvent).changes,
    );
    expect(changes.filter((c) => c.kind === 'message').map((c) => c.message.messageId)).toEqual([
      'welcome-1',
      'user-1',
      'user-1-x-1',
      'user-2',
    ]);
    // Seen first in its interrupted form (the newest event came first): no later "update".
    expect(changes.filter((c) => c.kind === 'message-updated')).toEqual([]);
    expect(changes.filter((c) => c.kind === 'interruption')).toMatchObject([
      { messageId: 'user-1-x-1', heardText: 'Sure, for how' },
    ]);
    expect(changes.filter((c) => c.kind === 'skipped')).toMatchObject([
      { userMessageId: 'user-2', skipped: { messageId: 'user-1-y-2' } },
    ]);
    // The late "ongoing" after "finished" is stale: not reported.
    expect(changes.filter((c) => c.kind === 'status').map((c) => c.status)).toEqual(['finished']);
  });

  it('in order: reports the revision of a reply that was cut off, once', () => {
    const tracker = new ConversationTracker();
    const changes = history.flatMap((e) => tracker.push(e as WebhookEvent).changes);
    expect(changes.filter((c) => c.kind === 'message-updated')).toMatchObject([
      { message: { messageId: 'user-1-x-1', text: 'Sure, for how', interrupted: true } },
    ]);
    expect(changes.filter((c) => c.kind === 'interruption')).toHaveLength(1);
    expect(changes.filter((c) => c.kind === 'status').map((c) => c.status)).toEqual(['ongoing', 'finished']);
    expect(tracker.push(history[2] as WebhookEvent)).toEqual({ duplicate: true, changes: [] });
    expect(() => new ConversationTracker({ version: 2 } as never)).toThrow(/state/);
  });
});
