import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { CallService } from '../../src/calls/call-service.js';
import type { EngineProviders, EngineTiming } from '../../src/engine/providers.js';
import type { InputLimits } from '../../src/shared/input-limits.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * A real Parley server on 127.0.0.1 (the app exactly as `parley serve` builds it, with the given
 * providers), the real webhook outbox as the event sink, and a loopback webhook receiver that
 * validates every event against its schema.
 */
export interface CallServer {
  server: TestServer;
  calls: CallService;
  receiver: WebhookReceiver;
  key: string;
  baseUrl: string;
  close(): Promise<void>;
}

/** `providers` undefined: the server's own, as `parley serve` builds them (offline + cloud catalog). */
export async function startCallServer(
  providers: EngineProviders | undefined,
  opts: {
    timing?: Partial<EngineTiming>;
    joinTokenTtlMs?: number;
    env?: Record<string, string>;
    inputLimits?: Partial<InputLimits>;
  } = {},
): Promise<CallServer> {
  let baseUrl = '';
  const server = await startTestServer(
    opts.env ?? {},
    {},
    {
      ...(providers ? { providers } : {}),
      calls: {
        publicUrl: () => baseUrl,
        ...(opts.timing ? { timing: opts.timing } : {}),
        ...(opts.joinTokenTtlMs ? { joinTokenTtlMs: opts.joinTokenTtlMs } : {}),
        ...(opts.inputLimits ? { inputLimits: opts.inputLimits } : {}),
      },
    },
  );
  const receiver = await new WebhookReceiver().start();
  const calls = server.parley.calls;
  const app = server.parley.app;
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const key = await server.createKey('calls');
  return {
    server,
    calls,
    receiver,
    key,
    baseUrl,
    close: async () => {
      await calls.close();
      await receiver.stop();
      await server.close();
    },
  };
}

/** The events the receiver accepted for one call, in sequence order (their `message`). */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary event fields
export function callEvents(cs: CallServer, callId: string): any[] {
  return cs.receiver
    .accepted()
    .filter((e) => e.message.call.id === callId)
    .sort((a, b) => a.message.sequence - b.message.sequence)
    .map((e) => e.message);
}

export async function api(cs: CallServer, method: string, path: string, body?: unknown) {
  const res = await fetch(cs.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${cs.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** A WebSocket client that logs server messages and can wait for them. */
export class Client {
  readonly messages: Record<string, unknown>[] = [];
  audioFrames = 0;
  closed: { code: number; reason: string } | undefined;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  ackMarks = true;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.audioFrames++;
      else {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        this.messages.push(message);
        if (message.type === 'mark' && this.ackMarks) this.send({ type: 'mark', id: message.id });
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    const ws = new WebSocket(url, options);
    const client = new Client(ws);
    await once(ws, 'open');
    return client;
  }

  send(message: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary message fields
  of(type: string): Record<string, any>[] {
    return this.messages.filter((m) => m.type === type);
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }

  waitFor(test: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  waitClosed(timeoutMs = 15_000): Promise<void> {
    return this.waitFor(() => this.closed !== undefined, timeoutMs, 'close');
  }
}
