import { describe, expect, it } from 'vitest';
import { AudioPacer, conversationLimitReached, TokenBucket } from '../../src/shared/input-limits.js';

describe('input limits', () => {
  it('audio: real time plus the allowance is admitted; audio ahead of the clock is dropped', () => {
    const pacer = new AudioPacer(1000);
    let admitted = 0;
    for (let i = 0; i < 15_000; i++) if (pacer.admit(20, 500)) admitted += 20; // 300 s of frames at t = 500 ms
    expect(admitted).toBe(1000);
    expect(pacer.droppedMs).toBe(300_000 - 1000);
    // half a second later, half a second more
    let later = 0;
    for (let i = 0; i < 100; i++) if (pacer.admit(20, 1000)) later += 20;
    expect(later).toBe(500);
  });

  it('audio: a backlog that arrives late (a network stall) is taken in full', () => {
    const pacer = new AudioPacer(1000);
    for (let t = 0; t < 1000; t += 20) expect(pacer.admit(20, t)).toBe(true);
    // nothing for 3 s, then the 3 s that were held up
    for (let i = 0; i < 150; i++) expect(pacer.admit(20, 4000)).toBe(true);
    expect(pacer.droppedMs).toBe(0);
  });

  it('a token bucket allows its burst, then its rate', () => {
    const bucket = new TokenBucket(2 / 1000, 10);
    for (let i = 0; i < 10; i++) expect(bucket.take(1, 0)).toBe(true);
    expect(bucket.take(1, 0)).toBe(false);
    expect(bucket.take(1, 499)).toBe(false);
    expect(bucket.take(1, 500)).toBe(true);
    expect(bucket.take(1, 10_000)).toBe(true);
  });

  it('names the conversation limit that was passed', () => {
    const limits = { maxUserTurns: 3, maxConversationChars: 100 };
    expect(conversationLimitReached(limits, 3, 100)).toBeUndefined();
    expect(conversationLimitReached(limits, 4, 10)).toBe('more than 3 user turns');
    expect(conversationLimitReached(limits, 1, 101)).toBe('conversation over 100 characters');
  });
});
