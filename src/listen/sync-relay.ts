/**
 * Server side of `parley listen --tools`: listeners connected over `GET /v1/listen/ws` answer
 * their team's synchronous requests (`tool-calls`, `assistant-request`) instead of the
 * configured URL, while they are connected.
 *
 * Protocol (JSON text frames):
 *  server → listener `{"type": "request", "id", "timeoutMs", "message"}` (the event's `message`;
 *  the listener signs and posts it to its local receiver as a real delivery);
 *  listener → server `{"type": "reply", "id", "status", "body"}` (the receiver's answer).
 *
 * Budget: the request's own (`timeoutMs`); no reply in time is a timeout, a listener that goes
 * away mid-request fails the request at once: both fall back exactly as an unreachable server
 * does (the model is told the tool failed; `assistant-request` uses the default assistant). A
 * team without a listener, or whose listener left, is served by the configured URL as usual.
 *
 * One process: a listener serves the calls run by the process it is connected to.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { EventMessage } from '../contract/event-schemas.js';
import type { SendResult } from '../webhooks/http/send.js';
import type { RelaySend, SyncRequestRelay } from '../webhooks/sync-request.js';

export interface RelayFilter {
  /** Assistant ids whose requests it answers; empty: all of the team's. */
  assistantIds: readonly string[];
}

interface Pending {
  /** Settles the request once (clears its timer, forgets it). */
  resolve: (result: SendResult) => void;
  started: number;
}

class RelayConnection {
  readonly pending = new Map<string, Pending>();
  constructor(
    readonly teamId: string,
    readonly socket: WebSocket,
    readonly filter: RelayFilter,
  ) {}

  serves(teamId: string, message: EventMessage): boolean {
    if (teamId !== this.teamId) return false;
    const ids = this.filter.assistantIds;
    return ids.length === 0 || ids.includes(message.call.assistantId);
  }
}

const failure = (started: number, code: 'timeout' | 'network', message: string): SendResult => ({
  ok: false,
  latencyMs: Date.now() - started,
  responseBodySnippet: '',
  responseHeaders: {},
  error: { code, message },
});

export class SyncRelay implements SyncRequestRelay {
  private readonly connections: RelayConnection[] = [];

  /** Number of listeners connected (all teams). */
  get size(): number {
    return this.connections.length;
  }

  /** Registers a listener's socket; it is removed (and its requests fail) when the socket closes. */
  attach(teamId: string, socket: WebSocket, filter: RelayFilter): void {
    const conn = new RelayConnection(teamId, socket, filter);
    this.connections.push(conn);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.close(1003, 'binary frames are not part of the protocol');
      let reply: { type?: unknown; id?: unknown; status?: unknown; body?: unknown };
      try {
        reply = JSON.parse(String(data));
      } catch {
        return socket.close(1007, 'invalid JSON');
      }
      if (reply.type !== 'reply' || typeof reply.id !== 'string' || typeof reply.status !== 'number') {
        return socket.close(1008, 'expected {"type": "reply", "id", "status", "body"}');
      }
      const pending = conn.pending.get(reply.id);
      if (!pending) return; // late: already timed out
      const body = typeof reply.body === 'string' ? reply.body : '';
      const ok = reply.status >= 200 && reply.status < 300;
      pending.resolve({
        ok,
        statusCode: reply.status,
        latencyMs: Date.now() - pending.started,
        responseBodySnippet: body.slice(0, 4096),
        responseBody: body,
        responseHeaders: {},
      });
    });
    socket.on('close', () => {
      const at = this.connections.indexOf(conn);
      if (at >= 0) this.connections.splice(at, 1);
      for (const pending of [...conn.pending.values()]) {
        pending.resolve(
          failure(pending.started, 'network', 'the parley listen connection closed mid-request'),
        );
      }
    });
  }

  /** The listener that answers this request (the latest connected), or undefined: use the URL. */
  route(teamId: string, message: EventMessage): RelaySend | undefined {
    if (message.type !== 'tool-calls' && message.type !== 'assistant-request') return undefined;
    const conn = [...this.connections]
      .reverse()
      .find((c) => c.socket.readyState === c.socket.OPEN && c.serves(teamId, message));
    if (!conn) return undefined;
    return ({ timeoutMs, signal }) =>
      new Promise<SendResult>((resolve) => {
        const id = randomUUID();
        const started = Date.now();
        const onAbort = () => finish(failure(started, 'timeout', 'aborted'));
        const finish = (result: SendResult) => {
          if (!conn.pending.delete(id)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(result);
        };
        const timer = setTimeout(
          () => finish(failure(started, 'timeout', `parley listen did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
        conn.pending.set(id, { resolve: finish, started });
        signal?.addEventListener('abort', onAbort, { once: true });
        conn.socket.send(JSON.stringify({ type: 'request', id, timeoutMs, message }));
      });
  }
}
