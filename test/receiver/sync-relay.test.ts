import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { EventMessage } from '../../src/contract/event-schemas.js';
import { SyncRelay } from '../../src/listen/sync-relay.js';

/** Just what SyncRelay uses of a ws socket. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  sent: { type: string; id: string; timeoutMs: number }[] = [];
  closedWith: [number, string] | undefined;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
    this.readyState = 3;
    this.emit('close');
  }
  reply(id: string, status: number, body: string) {
    this.emit('message', Buffer.from(JSON.stringify({ type: 'reply', id, status, body })), false);
  }
}

const message = (type: string, assistantId = 'a1') =>
  ({ type, call: { assistantId } }) as unknown as EventMessage;

function attach(relay: SyncRelay, team = 't1', assistantIds: string[] = []) {
  const socket = new FakeSocket();
  relay.attach(team, socket as unknown as WebSocket, { assistantIds });
  return socket;
}

describe('SyncRelay', () => {
  it('routes only synchronous requests of its team and assistants, to the latest listener', () => {
    const relay = new SyncRelay();
    attach(relay, 't1', ['a1']);
    expect(relay.route('t1', message('tool-calls'))).toBeDefined();
    expect(relay.route('t1', message('tool-calls', 'a2'))).toBeUndefined();
    expect(relay.route('t2', message('tool-calls'))).toBeUndefined();
    expect(relay.route('t1', message('status-update'))).toBeUndefined();
    const latest = attach(relay, 't1');
    void relay.route('t1', message('assistant-request'))?.({ timeoutMs: 1000 });
    expect(latest.sent).toHaveLength(1);
  });

  it('answers with the reply, times out on the budget, fails at once when the listener goes', async () => {
    const relay = new SyncRelay();
    const socket = attach(relay);
    const send = relay.route('t1', message('tool-calls'));
    const answered = send?.({ timeoutMs: 5000 });
    socket.reply(socket.sent[0]?.id ?? '', 200, '{"result": 1}');
    expect(await answered).toMatchObject({ ok: true, statusCode: 200, responseBody: '{"result": 1}' });

    const started = Date.now();
    expect(await send?.({ timeoutMs: 50 })).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(1000);
    socket.reply(socket.sent[1]?.id ?? '', 200, 'late'); // ignored

    const pending = send?.({ timeoutMs: 60_000 });
    socket.close(1006, 'gone');
    expect(await pending).toMatchObject({ ok: false, error: { code: 'network' } });
    expect(relay.size).toBe(0);
    expect(relay.route('t1', message('tool-calls'))).toBeUndefined(); // the configured URL again
  });

  it('closes the socket on a frame outside the protocol', () => {
    const relay = new SyncRelay();
    const socket = attach(relay);
    socket.emit('message', Buffer.from('{"type": "hello"}'), false);
    expect(socket.closedWith?.[0]).toBe(1008);
    const other = attach(relay);
    other.emit('message', Buffer.from('nope'), false);
    expect(other.closedWith?.[0]).toBe(1007);
  });
});
