/**
 * The server side of the offline dialog benchmark: the Parley app exactly as `parley serve`
 * builds it (its own offline providers, an embedded database in a temporary directory) on
 * 127.0.0.1, and a loopback assistant server that books every `bookAppointment` tool call
 * and keeps each call's events (tool calls, end-of-call report) for scoring.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { createParley } from '../../src/server.js';
import { createApiKey } from '../../src/tenancy/api-keys.js';

/** One webhook event's `message`, as far as the benchmark reads it. */
export interface HookMessage {
  type: string;
  call?: { id?: string; endedReason?: string; callEndTriggerBy?: string };
  endedReason?: string;
  toolCallList?: { id: string; function: { name: string; arguments: Record<string, unknown> } }[];
}

export class AssistantServer {
  private readonly byCall = new Map<string, HookMessage[]>();
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private server: http.Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let message: HookMessage | undefined;
        try {
          message = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: HookMessage }).message;
        } catch {
          res.writeHead(400).end();
          return;
        }
        if (!message) {
          res.writeHead(400).end();
          return;
        }
        const id = message.call?.id ?? '';
        this.byCall.set(id, [...(this.byCall.get(id) ?? []), message]);
        const body =
          message.type === 'tool-calls'
            ? {
                results: (message.toolCallList ?? []).map((c) => ({
                  toolCallId: c.id,
                  result: { booked: true, confirmation: 'BENCH-1', ...c.function.arguments },
                })),
              }
            : {};
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        this.waiters = this.waiters.filter((w) => {
          if (!w.test()) return true;
          w.resolve();
          return false;
        });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  events(callId: string): HookMessage[] {
    return this.byCall.get(callId) ?? [];
  }

  /** The call's end-of-call report, or undefined after `timeoutMs`. */
  report(callId: string, timeoutMs: number): Promise<HookMessage | undefined> {
    const find = () => this.events(callId).find((m) => m.type === 'end-of-call-report');
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.waiters.push({
        test: () => find() !== undefined,
        resolve: () => {
          clearTimeout(timer);
          resolve(find());
        },
      });
    });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

export interface BenchServer {
  baseUrl: string;
  key: string;
  hooks: AssistantServer;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  close(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-dialog-'));
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    PARLEY_ALLOW_PRIVATE_WEBHOOKS: '1',
  });
  let baseUrl = '';
  const parley = await createParley(config, {
    logger: createLogger(config.logLevel),
    admin: false,
    calls: { publicUrl: () => baseUrl },
  });
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(parley.app.server.address() as AddressInfo).port}`;
  const { key } = await createApiKey(parley.database.db, 'bench');
  const hooks = new AssistantServer();
  await hooks.start();
  return {
    baseUrl,
    key,
    hooks,
    api: async (method, path, body) => {
      const res = await fetch(baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: (await res.json()) as unknown };
    },
    close: async () => {
      await parley.calls.close();
      await hooks.close();
      await parley.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
