/**
 * `parley listen`: reads the team's live event stream and POSTs each event to a local receiver,
 * one at a time in arrival order, with a real delivery's body and signed headers.
 *
 * After a drop it reconnects with back-off and fills the gap from storage before forwarding
 * live events again (those arriving meanwhile wait): for every call it has seen that has not
 * ended, `GET /v1/calls/:id/events` after the last sequence it had; for calls created during
 * the drop, `GET /v1/calls?createdAfter=` and their events from the start. Events are
 * de-duplicated on their id, so nothing is forwarded twice and nothing recorded is missed.
 *
 * `tool-calls` and `assistant-request` are requests, not notifications: the stream's copies are
 * printed, never forwarded (the local receiver would run the tool a second time). With
 * `--tools` the server sends them to this listener instead (ToolAnswerer), which answers them
 * with the local receiver.
 */
import type { EventMessage } from '../contract/event-schemas.js';
import { type LiveStreamEvent, readLiveStream, StreamRefusedError } from './event-stream.js';
import { type ForwardResult, forwardEvent } from './forward.js';
import type { ListenOptions } from './listen-options.js';
import { ToolAnswerer } from './tool-answerer.js';

export interface ListenerHooks {
  /** One line per forwarded event (default: stdout). */
  print?: (line: string) => void;
  /** Connection notices (default: stderr). */
  log?: (line: string) => void;
  /** Waits before reconnect attempt `attempt` (1, 2, …); default back-off 0.5 s doubling to 10 s. */
  beforeReconnect?: (attempt: number) => Promise<void>;
  /** After each forwarded event. */
  onForwarded?: (message: EventMessage, result: ForwardResult, replayed: boolean) => void;
}

interface CallProgress {
  lastSequence: number;
  ended: boolean;
}

const MAX_REMEMBERED = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Listener {
  private readonly calls = new Map<string, CallProgress>();
  private readonly seen = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private controller: AbortController | undefined;
  private stopped = false;
  private held: { event: LiveStreamEvent; replayed: boolean }[] | undefined;
  private droppedAt: number | undefined;
  private running: Promise<void> | undefined;
  private tools: ToolAnswerer | undefined;
  /** Resolves once the stream is open (and, with --tools, the tools connection). */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly streamOpen: Promise<void>;
  private markOpen!: () => void;

  constructor(
    private readonly options: ListenOptions,
    private readonly hooks: ListenerHooks = {},
  ) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.streamOpen = new Promise((resolve) => {
      this.markOpen = resolve;
    });
  }

  private print(line: string): void {
    (this.hooks.print ?? ((l) => process.stdout.write(`${l}\n`)))(line);
  }

  private log(line: string): void {
    (this.hooks.log ?? ((l) => process.stderr.write(`parley listen: ${l}\n`)))(line);
  }

  /** Runs until stop(); rejects when the server refuses the key. */
  start(): Promise<void> {
    if (!this.running) {
      let ready: Promise<unknown> = this.streamOpen;
      if (this.options.tools) {
        this.tools = new ToolAnswerer(this.options, {
          log: (line) => this.log(line),
          onAnswered: (message, result) => this.printForwarded(message, result, 'answered'),
        });
        this.tools.start();
        ready = Promise.all([ready, this.tools.ready]);
      }
      void ready.then(() => this.markReady());
      this.running = this.tools ? Promise.race([this.run(), this.tools.refused]) : this.run();
    }
    return this.running;
  }

  /** Ends the --tools connection abruptly, as a crash of this process would (tests). */
  killTools(): void {
    this.tools?.kill();
  }

  /** Closes the current connection as a network drop would (it reconnects). */
  drop(): void {
    this.controller?.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tools?.stop();
    this.controller?.abort();
    await this.running?.catch(() => undefined);
    await this.chain;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const controller = new AbortController();
      this.controller = controller;
      try {
        await readLiveStream({
          serverUrl: this.options.serverUrl,
          apiKey: this.options.apiKey,
          signal: controller.signal,
          onOpen: () => {
            attempt = 0;
            this.log(`connected to ${this.options.serverUrl}, forwarding to ${this.options.forwardTo}`);
            if (this.droppedAt !== undefined) this.catchUp(this.droppedAt);
            this.markOpen();
          },
          onEvent: (event) => this.receive(event, false),
        });
      } catch (err) {
        if (err instanceof StreamRefusedError) throw err;
        if (!this.stopped) this.log(`the event stream failed: ${(err as Error).message}`);
      }
      if (this.stopped) break;
      this.droppedAt ??= Date.now();
      attempt++;
      this.log(`disconnected; reconnecting (attempt ${attempt})`);
      await (this.hooks.beforeReconnect ?? ((n) => sleep(Math.min(10_000, 500 * 2 ** (n - 1)))))(attempt);
    }
  }

  /** Fills the gap of a drop from storage; live events wait meanwhile. */
  private catchUp(droppedAt: number): void {
    this.held = [];
    const done = () => {
      const held = this.held ?? [];
      this.held = undefined;
      this.droppedAt = undefined;
      for (const h of held) this.accept(h.event, h.replayed);
    };
    this.fetchMissed(droppedAt)
      .catch((err: unknown) =>
        this.log(`could not read the events missed during the drop: ${(err as Error).message}`),
      )
      .finally(done);
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.options.serverUrl}${path}`, {
      headers: { authorization: `Bearer ${this.options.apiKey}` },
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    return (await res.json()) as T;
  }

  private async fetchMissed(droppedAt: number): Promise<void> {
    // Calls created during the drop (with a margin for clock skew between here and the server).
    const since = new Date(droppedAt - 60_000).toISOString();
    let cursor: string | null = null;
    do {
      const query: string = `createdAfter=${encodeURIComponent(since)}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await this.api<{ data: { id: string }[]; nextCursor: string | null }>(
        `/v1/calls?${query}`,
      );
      for (const call of page.data)
        if (!this.calls.has(call.id)) this.calls.set(call.id, { lastSequence: 0, ended: false });
      cursor = page.nextCursor;
    } while (cursor);
    for (const [callId, progress] of [...this.calls]) {
      if (progress.ended) continue;
      let after: string | null = String(progress.lastSequence);
      while (after !== null) {
        const page: { data: LiveStreamEvent[]; nextCursor: string | null } = await this.api(
          `/v1/calls/${encodeURIComponent(callId)}/events?limit=100${after !== '0' ? `&cursor=${after}` : ''}`,
        );
        for (const item of page.data) this.accept(item, true);
        after = page.nextCursor;
      }
    }
  }

  private receive(event: LiveStreamEvent, replayed: boolean): void {
    if (this.held) this.held.push({ event, replayed });
    else this.accept(event, replayed);
  }

  private remember(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }

  private accept(item: LiveStreamEvent, replayed: boolean): void {
    const message = item.event as unknown as EventMessage;
    if (!message?.id || !this.remember(message.id)) return;
    const progress = this.calls.get(item.callId) ?? { lastSequence: 0, ended: false };
    progress.lastSequence = Math.max(progress.lastSequence, message.sequence);
    if (message.type === 'end-of-call-report') progress.ended = true;
    this.calls.delete(item.callId); // re-insert: most recent last, oldest dropped first
    this.calls.set(item.callId, progress);
    if (this.calls.size > MAX_REMEMBERED) this.calls.delete(this.calls.keys().next().value as string);
    if (this.options.events && !this.options.events.includes(message.type)) return;
    const assistantId = message.call?.assistantId;
    if (this.options.assistants && !this.options.assistants.includes(assistantId)) return;
    if (message.type === 'tool-calls' || message.type === 'assistant-request') {
      // A request: answered where the server sent it (here with --tools), never a second time.
      if (!this.options.tools) {
        this.chain = this.chain.then(() =>
          this.print(
            `${this.now()}  ${message.type.padEnd(19)} ${message.call.id} #${message.sequence}  (answered by the configured URL; --tools answers it here)`,
          ),
        );
      }
      return;
    }
    this.chain = this.chain.then(() => this.forward(message, replayed));
  }

  private now(): string {
    return new Date().toISOString().slice(11, 23);
  }

  private async forward(message: EventMessage, replayed: boolean): Promise<void> {
    const result = await forwardEvent(message, {
      url: this.options.forwardTo,
      secret: this.options.secret,
      format: this.options.format,
      timeoutMs: this.options.timeoutMs,
    });
    this.printForwarded(message, result, replayed ? 'missed during a drop' : undefined);
    this.hooks.onForwarded?.(message, result, replayed);
  }

  private printForwarded(message: EventMessage, result: ForwardResult, note: string | undefined): void {
    const outcome = result.status !== undefined ? String(result.status) : `failed (${result.error})`;
    this.print(
      `${this.now()}  ${message.type.padEnd(19)} ${message.call.id} #${message.sequence}  → ${outcome}  ${result.latencyMs} ms${note ? `  (${note})` : ''}`,
    );
  }
}
