import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterEach, expect } from 'vitest';
import { eventSchemas } from '../../src/contract/event-schemas.js';

export interface ReceivedEvent {
  at: number;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  // biome-ignore lint/suspicious/noExplicitAny: test receivers look at arbitrary event fields
  message: any;
  /** Status code this receiver answered with. */
  answered: number;
}

export type Responder = (
  event: ReceivedEvent,
  index: number,
) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | undefined;

// biome-ignore lint/suspicious/noExplicitAny: ajv's CJS default export under NodeNext
const AjvClass = ((Ajv as any).default ?? Ajv) as typeof Ajv.default;
const ajv = new AjvClass({ strict: false, allErrors: true });
// biome-ignore lint/suspicious/noExplicitAny: same
((addFormats as any).default ?? addFormats)(ajv);
const validators = Object.fromEntries(
  Object.entries(eventSchemas).map(([type, schema]) => [type, ajv.compile(schema)]),
);

/**
 * A real webhook receiver on 127.0.0.1. Every default-format event it receives is validated
 * against the published JSON Schema of its type: `schemaErrors` must stay empty in every test.
 */
export class WebhookReceiver {
  readonly events: ReceivedEvent[] = [];
  readonly schemaErrors: string[] = [];
  private server: http.Server | undefined;
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  port = 0;
  respond: Responder = () => undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(port = 0): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  private async handle(req: http.IncomingMessage, rawBody: string, res: http.ServerResponse) {
    let body: { message?: { type?: string } } = {};
    try {
      body = JSON.parse(rawBody);
    } catch {
      this.schemaErrors.push(`unparseable body: ${rawBody.slice(0, 100)}`);
    }
    const event: ReceivedEvent = {
      at: Date.now(),
      headers: req.headers,
      rawBody,
      message: body.message,
      answered: 200,
    };
    const type = body.message?.type;
    const validate = type ? validators[type] : undefined;
    // hms-format bodies (snake_case) have their own shape; the default format is validated.
    const defaultFormat =
      (body.message as { call?: { teamId?: string } } | undefined)?.call?.teamId !== undefined;
    if (defaultFormat && validate && !validate(body)) {
      this.schemaErrors.push(`${type}: ${ajv.errorsText(validate.errors)}`);
    }
    const planned = this.respond(event, this.events.length);
    event.answered = planned?.status ?? 200;
    this.events.push(event);
    for (const w of [...this.waiters]) {
      if (w.predicate()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    if (planned?.delayMs) await new Promise((r) => setTimeout(r, planned.delayMs));
    if (res.destroyed) return;
    res.writeHead(event.answered, { 'content-type': 'application/json', ...(planned?.headers ?? {}) });
    res.end(planned?.body ?? '{"ok":true}');
  }

  /** Resolves when `predicate` holds (checked on every received event). */
  waitFor(predicate: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; got ${this.events.length} events`)),
        timeoutMs,
      );
      this.waiters.push({
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Events answered 2xx, de-duplicated by id (what a receiver keeps). */
  accepted(): ReceivedEvent[] {
    const seen = new Set<string>();
    return this.events.filter((e) => {
      if (e.answered < 200 || e.answered >= 300 || seen.has(e.message?.id)) return false;
      seen.add(e.message?.id);
      return true;
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * For a test file: returns a factory of receivers; after each test every receiver it made must
 * have seen only schema-valid events, and is stopped.
 */
export function useReceivers(): (port?: number) => Promise<WebhookReceiver> {
  const started: WebhookReceiver[] = [];
  afterEach(async () => {
    for (const r of started) expect(r.schemaErrors).toEqual([]);
    await Promise.all(started.splice(0).map((r) => r.stop()));
  });
  return async (port = 0) => {
    const r = await new WebhookReceiver().start(port);
    started.push(r);
    return r;
  };
}
