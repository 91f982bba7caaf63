import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LiveEvent, LiveEventHub } from '../../src/live/live-events.js';
import { SseStream } from '../../src/live/sse-stream.js';

const options = { heartbeatMs: 15_000, maxBufferedBytes: 64 * 1024, retryMs: 2_000 };

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
    // It stopped near the cap: about 64 events of 1 KB, not 10,000.
    expect(sent).toBeLessThan(80);
    stream.send(payload, 'after'); // ignored, no throw
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
