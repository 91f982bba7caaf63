/**
 * Shared by the sherpa-onnx STT (`src/stt/sherpa-onnx/`) and TTS (`src/tts/sherpa-onnx/`) providers.
 *
 * Typed access to `sherpa-onnx-node` (a CommonJS native addon without type declarations),
 * loaded lazily so that importing a provider never loads onnxruntime until a model is used.
 * Only the calls Parley makes are typed; the shapes follow the package's `types.js`.
 */
import { createRequire } from 'node:module';

export interface SherpaWaveform {
  samples: Float32Array;
  sampleRate: number;
}

export interface SherpaRecognizerResult {
  text: string;
  /** Seconds from the start of the stream (segment), one per token. */
  timestamps?: number[];
  tokens?: string[];
  ys_log_probs?: number[];
  /** Online results: start of the segment in seconds. */
  start_time?: number;
}

export interface SherpaOfflineStream {
  acceptWaveform(wave: SherpaWaveform): void;
}

export interface SherpaOfflineRecognizer {
  createStream(): SherpaOfflineStream;
  decodeAsync(stream: SherpaOfflineStream): Promise<SherpaRecognizerResult>;
}

export interface SherpaOnlineStream {
  acceptWaveform(wave: SherpaWaveform): void;
  inputFinished(): void;
}

export interface SherpaOnlineRecognizer {
  createStream(): SherpaOnlineStream;
  isReady(stream: SherpaOnlineStream): boolean;
  decode(stream: SherpaOnlineStream): void;
  isEndpoint(stream: SherpaOnlineStream): boolean;
  reset(stream: SherpaOnlineStream): void;
  getResult(stream: SherpaOnlineStream): SherpaRecognizerResult;
}

export interface SherpaGeneratedAudio {
  samples: Float32Array;
  sampleRate: number;
}

export interface SherpaOfflineTts {
  readonly sampleRate: number;
  readonly numSpeakers: number;
  generateAsync(request: {
    text: string;
    sid: number;
    speed: number;
    enableExternalBuffer?: boolean;
    /** Called per generated batch of sentences; return 0/false to stop. */
    onProgress?: (info: { samples: Float32Array; progress: number }) => number | boolean | undefined;
  }): Promise<SherpaGeneratedAudio>;
}

/** Config objects are passed through to the addon as they are (see its `types.js`). */
export type SherpaConfig = Record<string, unknown>;

export interface SherpaOnnxModule {
  version: string;
  OfflineRecognizer: { createAsync(config: SherpaConfig): Promise<SherpaOfflineRecognizer> };
  OnlineRecognizer: new (config: SherpaConfig) => SherpaOnlineRecognizer;
  OfflineTts: { createAsync(config: SherpaConfig): Promise<SherpaOfflineTts> };
}

let loaded: SherpaOnnxModule | undefined;

/** The addon; throws when the native package for this platform is not installed. */
export function loadSherpaOnnx(): SherpaOnnxModule {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = require('sherpa-onnx-node') as SherpaOnnxModule;
  }
  return loaded;
}
