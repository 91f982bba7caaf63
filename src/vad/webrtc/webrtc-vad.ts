/**
 * WebRTC VAD (libfvad compiled to WASM by `@echogarden/fvad-wasm`). The WASM module is loaded
 * once per process (async); after that `isSpeech` is a synchronous copy into WASM memory and
 * one call, allocation-free.
 */
import createFvadModule, { type FvadModule } from '@echogarden/fvad-wasm';
import { defaultVadOptions, type Vad, type VadOptions } from '../vad.js';

let modulePromise: Promise<FvadModule> | undefined;

function loadFvad(): Promise<FvadModule> {
  modulePromise ??= createFvadModule().catch((error: unknown) => {
    modulePromise = undefined;
    throw error;
  });
  return modulePromise;
}

class WebRtcVad implements Vad {
  readonly name = 'webrtc';
  readonly frameSamples: number;
  private inst: number;
  private readonly ptr: number;

  constructor(
    private readonly mod: FvadModule,
    options: VadOptions,
  ) {
    this.frameSamples = (options.sampleRate * options.frameMs) / 1000;
    this.inst = mod._fvad_new();
    if (this.inst === 0) throw new Error('fvad_new failed (out of WASM memory)');
    this.ptr = mod._malloc(this.frameSamples * 2);
    if (
      mod._fvad_set_mode(this.inst, options.aggressiveness) !== 0 ||
      mod._fvad_set_sample_rate(this.inst, options.sampleRate) !== 0
    ) {
      this.close();
      throw new RangeError(`unsupported VAD options ${JSON.stringify(options)}`);
    }
  }

  isSpeech(frame: Int16Array): boolean {
    if (this.inst === 0) throw new Error('VAD is closed');
    if (frame.length !== this.frameSamples) {
      throw new RangeError(`VAD frame must be ${this.frameSamples} samples, got ${frame.length}`);
    }
    // HEAP16 is re-read every call: it is replaced if WASM memory ever grows.
    this.mod.HEAP16.set(frame, this.ptr >> 1);
    return this.mod._fvad_process(this.inst, this.ptr, this.frameSamples) === 1;
  }

  /** Clears the adaptive noise state (e.g. between calls when an instance is pooled). */
  reset(): void {
    if (this.inst !== 0) this.mod._fvad_reset(this.inst);
  }

  close(): void {
    if (this.inst === 0) return;
    this.mod._fvad_free(this.inst);
    this.mod._free(this.ptr);
    this.inst = 0;
  }
}

export type WebRtcVadOptions = Partial<VadOptions>;

/** Creates a WebRTC VAD; the first call loads the WASM module. */
export async function createWebRtcVad(options: WebRtcVadOptions = {}): Promise<Vad & { reset(): void }> {
  const resolved: VadOptions = { ...defaultVadOptions, ...options };
  return new WebRtcVad(await loadFvad(), resolved);
}
