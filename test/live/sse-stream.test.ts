import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LiveEvent, LiveEventHub } from '../../src/live/live-events.js';
import { SseStream } from '../../src/live/sse-stream.js';

const options = { heartbeatMs: 15_000, maxStallMs: 5_000, maxBufferedBytes: 64 * 1024, retryMs: 2_000 };

/** A response whose client reads everything written. */
function reading() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => {
    text += d;
  });
  return { out, text: () => text };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SseStream', () => {
  it('frames events with id and data lines, multi-line data split', () => {
    const { out, text } = reading();
    const stream = new SseStream(out, options);
    stream.send('{"a":1}', 'evt_1');
    stream.send('line one\nline two', 'evt\n2', 'custom');
    expect(text()).toBe(
      'retry: 2000\n: connected\n\nid: evt_1\ndata: {"a":1}\n\nid: evt2\nevent: custom\ndata: line one\ndata: line two\n\n',
    );
    stream.close();
  });

  it('sends a heartbeat comment every heartbeatMs until closed', () => {
    vi.useFakeTimers();
    const { out, text } = reading();
    const stream = new SseStream(out, options);
    vi.advanceTimersByTime(15_000 * 3);
    expect(text().match(/: heartbeat\n\n/g)).toHaveLength(3);
    stream.close();
    vi.advanceTimersByTime(15_000 * 3);
    expect(text().match(/: heartbeat\n\n/g)).toHaveLength(3);
  });

  it('disconnects a client that does not read instead of buffering without bound', () => {
    const out = new PassThrough({ highWaterMark: 1024 }); // nobody reads it
    const stream = new SseStream(out, options);
    const reasons: string[] = [];
    stream.onClose((r) => reasons.push(r));
    const payload = 'x'.repeat(1000);
    let sent = 0;
    while (!stream.closed && sent < 10_000) {
      stream.send(payload, `evt_${sent}`);
      sent++;
    }
    expect(stream.closed).toBe('too-slow');
    expect(reasons).toEqual(['too-slow']);
    expect(out.destroyed).toBe(true);
    // It stopped near the backlog bound: about 64 events of 1 KB, not 10,000.
    expect(sent).toBeLessThan(80);
    stream.send(payload, 'after'); // ignored, no throw
  });

  it('disconnects a client whose connection does not drain for maxStallMs, however little is queued', () => {
    vi.useFakeTimers();
    const out = new PassThrough({ highWaterMark: 1024 }); // nobody reads it
    const stream = new SseStream(out, options);
    stream.send('x'.repeat(2_000), 'evt_1');
    vi.advanceTimersByTime(4_900);
    expect(stream.closed).toBeUndefined();
    vi.advanceTimersByTime(200);
    expect(stream.closed).toBe('too-slow');
    expect(out.destroyed).toBe(true);
  });

  it('keeps a client that reads at its own pace: a burst waits for drains, in order, and is not judged slow', async () => {
    // A socket that takes 16 KB at a time and drains asynchronously, as a real one does.
    let text = '';
    let drains = 0;
    const out = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk, _encoding, done) {
        text += chunk;
        setImmediate(() => {
          drains++;
          done();
        });
      },
    });
    const stream = new SseStream(out, { ...options, maxBufferedBytes: 8 * 1024 * 1024 });
    // One synchronous burst (as the outbox publishes a batch): 5 MB, 100 events of 50 KB.
    const payload = 'y'.repeat(50_000);
    for (let i = 0; i < 100; i++) stream.send(payload, `evt_${i}`);
    // The socket asked to wait at once: the burst waits in the backlog, not in the socket.
    expect(stream.backlogSize).toBeGreaterThan(4_900_000);
    expect(out.writableLength).toBeLessThan(100_000);
    await stream.writable();
    expect(stream.closed).toBeUndefined();
    expect(stream.backlogSize).toBe(0);
    expect(drains).toBeGreaterThan(50);
    const ids = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]);
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => `evt_${i}`));
    stream.close();
  });

  it('lets one event larger than the backlog bound through, and holds the next until it drained', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const stream = new SseStream(out, options);
    const big = 'z'.repeat(1024 * 1024); // 16 times maxBufferedBytes
    stream.send(big, 'evt_big');
    stream.send('{"after":1}', 'evt_after');
    expect(stream.closed).toBeUndefined();
    let resolved = false;
    const drained = stream.writable().then(() => {
      resolved = true;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    let text = '';
    out.on('data', (d) => {
      text += d;
    });
    await drained;
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(text).toContain(`id: evt_big\ndata: ${big}\n\n`);
    expect(text.endsWith('id: evt_after\ndata: {"after":1}\n\n')).toBe(true);
    expect(stream.closed).toBeUndefined();
    stream.close();
  });

  it('reports the client closing', () => {
    const { out } = reading();
    const stream = new SseStream(out, options);
    const reasons: string[] = [];
    stream.onClose((r) => reasons.push(r));
    out.destroy();
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(reasons).toEqual(['client-closed']);
        resolve();
      }),
    );
  });
});

describe('LiveEventHub', () => {
  const event = (teamId: string, callId: string, sequence: number) =>
    ({
      teamId,
      callId,
      type: 'status-update',
      sequence,
      event: { id: `evt_${sequence}` },
    }) as unknown as LiveEvent;

  it('delivers to the team (and call) subscribed, in publish order; unsubscribe stops it', () => {
    const errors: unknown[] = [];
    const hub = new LiveEventHub((e) => errors.push(e));
    const team: number[] = [];
    const call: number[] = [];
    const other: number[] = [];
    const stopTeam = hub.subscribe({ teamId: 't1' }, (e) => team.push(e.sequence));
    hub.subscribe({ teamId: 't1', callId: 'c2' }, (e) => call.push(e.sequence));
    hub.subscribe({ teamId: 't2' }, (e) => other.push(e.sequence));
    hub.subscribe({ teamId: 't1' }, () => {
      throw new Error('a broken listener');
    });
    hub.publish(event('t1', 'c1', 1));
    hub.publish(event('t1', 'c2', 2));
    hub.publish(event('t1', 'c1', 3));
    expect(team).toEqual([1, 2, 3]);
    expect(call).toEqual([2]);
    expect(other).toEqual([]);
    expect(errors).toHaveLength(3);
    expect(hub.subscriberCount('t1')).toBe(3);
    stopTeam();
    stopTeam();
    hub.publish(event('t1', 'c1', 4));
    expect(team).toEqual([1, 2, 3]);
    expect(hub.subscriberCount()).toBe(3);
  });
});
