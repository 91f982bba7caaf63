import { describe, expect, it } from 'vitest';
import { Activity, ActivityDetector, type ActivityDetectorOptions } from '../../src/vad/activity-detector.js';

/** Runs a pattern like '----#####---' (# = speech frame) and records the edges. */
function run(pattern: string, options: Partial<ActivityDetectorOptions> = {}, detector?: ActivityDetector) {
  const d = detector ?? new ActivityDetector({ frameMs: 20, ...options });
  const events: string[] = [];
  for (const ch of pattern) {
    const edge = d.push(ch === '#');
    if (edge === Activity.SpeechStart) events.push(`start@${d.speechStartMs}`);
    if (edge === Activity.SpeechEnd) events.push(`end@${d.speechEndMs}`);
  }
  return { d, events };
}

const speech = (ms: number) => '#'.repeat(ms / 20);
const silence = (ms: number) => '-'.repeat(ms / 20);

describe('ActivityDetector', () => {
  it('ignores speech shorter than minSpeechMs (clicks)', () => {
    const { events, d } = run(silence(100) + speech(180) + silence(600) + speech(20));
    expect(events).toEqual([]);
    expect(d.speaking).toBe(false);
  });

  it('starts once speech has lasted exactly minSpeechMs, reporting where the speech began', () => {
    const { events, d } = run(silence(100) + speech(200));
    expect(events).toEqual(['start@100']);
    expect(d.speaking).toBe(true);
    expect(d.positionMs).toBe(300);
  });

  it('needs consecutive speech: a gap before the start restarts the count', () => {
    const { events } = run(speech(180) + silence(20) + speech(180) + silence(20) + speech(200));
    expect(events).toEqual(['start@400']);
  });

  it('ends after minSilenceMs of silence, at the point the silence began', () => {
    const { events } = run(silence(40) + speech(400) + silence(500) + silence(200));
    expect(events).toEqual(['start@40', 'end@440']);
  });

  it('keeps one segment across pauses shorter than minSilenceMs', () => {
    const { events } = run(
      speech(300) + silence(480) + speech(40) + silence(480) + speech(20) + silence(500),
    );
    expect(events).toEqual(['start@0', 'end@1320']);
  });

  it('honours a configurable minSilenceMs and minSpeechMs', () => {
    const { events } = run(speech(60) + silence(100) + speech(60) + silence(300), {
      minSilenceMs: 100,
      minSpeechMs: 60,
    });
    expect(events).toEqual(['start@0', 'end@60', 'start@160', 'end@220']);
  });

  it('handles several utterances and frame sizes other than 20 ms', () => {
    const d = new ActivityDetector({ frameMs: 30, minSpeechMs: 90, minSilenceMs: 300 });
    const events: string[] = [];
    for (const ch of '###----------###----------') {
      const edge = d.push(ch === '#');
      if (edge === Activity.SpeechStart) events.push(`start@${d.speechStartMs}`);
      if (edge === Activity.SpeechEnd) events.push(`end@${d.speechEndMs}`);
    }
    expect(events).toEqual(['start@0', 'end@90', 'start@390', 'end@480']);
  });

  it('end() closes speech in progress (stream ended), and is a no-op otherwise', () => {
    const a = run(speech(300)).d;
    expect(a.end()).toBe(Activity.SpeechEnd);
    expect(a.speechEndMs).toBe(300);
    const b = run(speech(300) + silence(100)).d;
    expect(b.end()).toBe(Activity.SpeechEnd);
    expect(b.speechEndMs).toBe(300);
    expect(b.end()).toBe(Activity.None);
    expect(new ActivityDetector({ frameMs: 20 }).end()).toBe(Activity.None);
  });

  it('minSpeechMs 0 starts on the first speech frame; reset() starts over', () => {
    const { d, events } = run(silence(40) + speech(20), { minSpeechMs: 0 });
    expect(events).toEqual(['start@40']);
    d.reset();
    expect(d.positionMs).toBe(0);
    expect(d.speaking).toBe(false);
    expect(run(speech(200), {}, d).events).toEqual(['start@0']);
  });

  it('rejects a non-positive frame duration', () => {
    expect(() => new ActivityDetector({ frameMs: 0 })).toThrow(RangeError);
  });
});
