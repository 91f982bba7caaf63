/**
 * In-band DTMF (ITU-T Q.23 frequencies): Twilio has no command that sends keypad digits into a
 * call held by a media stream, so the stream carries them as dual tones, as vocode does.
 * Each digit is 100 ms of tone then 60 ms of silence (Q.24 asks ≥ 40 ms of each); `w` is a
 * 500-ms pause, as in Twilio's `SendDigits`.
 */
const LOW = [697, 770, 852, 941] as const;
const HIGH = [1209, 1336, 1477, 1633] as const;
const KEYPAD = ['123A', '456B', '789C', '*0#D'] as const;

export const DTMF_TONE_MS = 100;
export const DTMF_GAP_MS = 60;
export const DTMF_PAUSE_MS = 500;
/** Each of the two tones at about −9 dBFS: together well under full scale. */
const AMPLITUDE = 0.35 * 32767;

export const DTMF_DIGITS_PATTERN = /^[0-9*#A-Dw]{1,64}$/;

/** The two frequencies of a digit. */
export function dtmfFrequencies(digit: string): readonly [number, number] | undefined {
  for (let row = 0; row < KEYPAD.length; row++) {
    const col = KEYPAD[row]?.indexOf(digit) ?? -1;
    if (col >= 0) return [LOW[row] ?? 0, HIGH[col] ?? 0];
  }
  return undefined;
}

/** PCM16 for `digits` at `sampleRate`; throws on a character that is not a digit or `w`. */
export function dtmfTones(digits: string, sampleRate: number): Int16Array {
  if (!DTMF_DIGITS_PATTERN.test(digits)) throw new Error(`invalid DTMF digits ${JSON.stringify(digits)}`);
  const perMs = sampleRate / 1000;
  let total = 0;
  for (const d of digits) total += d === 'w' ? DTMF_PAUSE_MS : DTMF_TONE_MS + DTMF_GAP_MS;
  const out = new Int16Array(Math.round(total * perMs));
  let at = 0;
  for (const d of digits) {
    if (d === 'w') {
      at += Math.round(DTMF_PAUSE_MS * perMs);
      continue;
    }
    const [low, high] = dtmfFrequencies(d) ?? [0, 0];
    const n = Math.round(DTMF_TONE_MS * perMs);
    for (let i = 0; i < n; i++) {
      const t = i / sampleRate;
      out[at + i] = Math.round(
        AMPLITUDE * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t)),
      );
    }
    at += n + Math.round(DTMF_GAP_MS * perMs);
  }
  return out;
}
