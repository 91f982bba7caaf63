/**
 * Synthesised audio of recent sentences, shared by all calls of the process: fixed phrases
 * (welcome, idle and goodbye messages, a scripted dialog's lines) play at once instead of
 * waiting for TTS. Entries are the 20 ms frames as synthesised (never modified once made), so
 * calls share them. Least recently used entries go first when over the budget.
 *
 * Audio is never shared across teams: each call uses a view `scoped` to its team (whose keys and
 * endpoints made the audio) and its TTS model, so one tenant is never played, nor learns through
 * `isCachePlaying`, what another made. A key names the configured voice (provider, model, voice,
 * speed, sample rate); audio a stand-in made (a fallback provider during an outage, see
 * `TtsOptions.onStandIn`) is never stored under it.
 */
export interface TtsCacheScope {
  /** The team whose credentials synthesise. */
  team: string;
  /** The TTS model the provider is bound to (`config.speech.tts.model`). */
  model?: string | undefined;
}

export interface TtsVoiceKey {
  provider: string;
  voice?: string | undefined;
  model?: string | undefined;
  speed?: number | undefined;
  sampleRate: number;
  text: string;
}

interface Store {
  readonly entries: Map<string, Int16Array[]>;
  bytes: number;
  hits: number;
  misses: number;
  readonly maxBytes: number;
}

export class TtsCache {
  private readonly store: Store;

  constructor(
    maxBytes = 32 * 1024 * 1024,
    private readonly scope: TtsCacheScope = { team: '' },
    store?: Store,
  ) {
    this.store = store ?? { entries: new Map(), bytes: 0, hits: 0, misses: 0, maxBytes };
  }

  /** A view of the same entries for one team and TTS model. */
  scoped(scope: TtsCacheScope): TtsCache {
    return new TtsCache(this.store.maxBytes, scope, this.store);
  }

  key(k: TtsVoiceKey): string {
    const model = this.scope.model ?? k.model ?? '';
    return [this.scope.team, k.provider, model, k.voice ?? '', k.speed ?? 1, k.sampleRate, k.text].join(
      '\u0000',
    );
  }

  get hits(): number {
    return this.store.hits;
  }

  get misses(): number {
    return this.store.misses;
  }

  get(key: string): Int16Array[] | undefined {
    const { entries } = this.store;
    const frames = entries.get(key);
    if (!frames) {
      this.store.misses++;
      return undefined;
    }
    entries.delete(key);
    entries.set(key, frames);
    this.store.hits++;
    return frames;
  }

  set(key: string, frames: Int16Array[]): void {
    const store = this.store;
    const size = frames.reduce((n, f) => n + f.byteLength, 0);
    if (size === 0 || size > store.maxBytes / 8 || store.entries.has(key)) return;
    store.entries.set(key, frames);
    store.bytes += size;
    for (const [oldest, old] of store.entries) {
      if (store.bytes <= store.maxBytes) break;
      store.entries.delete(oldest);
      store.bytes -= old.reduce((n, f) => n + f.byteLength, 0);
    }
  }

  get size(): number {
    return this.store.entries.size;
  }
}
