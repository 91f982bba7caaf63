/**
 * Keypad digits from the caller become a user turn whose text is the digits: keys are gathered
 * until `#` (which ends the entry and is not part of it; a lone `#` is sent as "#") or until
 * no key came for `DTMF_COMMIT_AFTER_MS`. Anything but 0-9 * # A-D is ignored.
 */
import type { CallState } from './call-state.js';

/** Keys without a closing `#` are committed this long after the last one (ms). */
export const DTMF_COMMIT_AFTER_MS = 1500;
/** A longer entry is committed at once. */
const MAX_DIGITS = 64;

export class DtmfInput {
  private digits = '';

  constructor(
    private readonly state: CallState,
    private readonly commit: (digits: string) => void,
  ) {}

  push(keys: string): void {
    const s = this.state;
    if (!s.live) return;
    s.timers.cancel('idle');
    for (const key of keys.toUpperCase()) {
      if (key === '#') this.flush(this.digits || '#');
      else if (/^[0-9*A-D]$/.test(key)) {
        this.digits += key;
        if (this.digits.length >= MAX_DIGITS) this.flush(this.digits);
      }
    }
    if (this.digits) s.timers.set('dtmf', DTMF_COMMIT_AFTER_MS, () => this.flush(this.digits));
    else s.timers.cancel('dtmf');
  }

  private flush(text: string): void {
    this.digits = '';
    this.state.timers.cancel('dtmf');
    if (text && this.state.live) this.commit(text);
  }
}
