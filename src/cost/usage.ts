/**
 * Usage of one call, metered while it runs: STT audio, LLM tokens (from the providers' `usage`
 * chunks; the call's replies and, separately, post-call analysis), TTS characters actually
 * synthesised (cache hits cost nothing), telephony time. Each line is keyed by vendor (and model).
 */
import type { LlmChunk, LlmProvider, LlmRequest } from '../llm/llm.js';
import type { TtsOptions, TtsProvider } from '../tts/tts.js';

export type UsageKind = 'stt' | 'llm' | 'tts' | 'telephony' | 'analysis';

export interface UsageLine {
  kind: UsageKind;
  vendor: string;
  model?: string;
  /** stt, telephony */
  audioMs?: number;
  /** llm, analysis */
  inputTokens?: number;
  outputTokens?: number;
  /** tts */
  characters?: number;
}

export class UsageMeter {
  private readonly lines = new Map<string, UsageLine>();

  private line(kind: UsageKind, vendor: string, model?: string): UsageLine {
    const key = `${kind}\u0000${vendor}\u0000${model ?? ''}`;
    let line = this.lines.get(key);
    if (!line) {
      line = { kind, vendor, ...(model !== undefined ? { model } : {}) };
      this.lines.set(key, line);
    }
    return line;
  }

  addTokens(kind: 'llm' | 'analysis', vendor: string, model: string, input: number, output: number): void {
    const l = this.line(kind, vendor, model);
    l.inputTokens = (l.inputTokens ?? 0) + Math.max(0, input);
    l.outputTokens = (l.outputTokens ?? 0) + Math.max(0, output);
  }

  addCharacters(vendor: string, characters: number): void {
    const l = this.line('tts', vendor);
    l.characters = (l.characters ?? 0) + characters;
  }

  /** Sets (not adds) the audio time of an STT or telephony vendor. */
  setAudioMs(kind: 'stt' | 'telephony', vendor: string, ms: number): void {
    this.line(kind, vendor).audioMs = Math.max(0, Math.round(ms));
  }

  get usage(): UsageLine[] {
    return [...this.lines.values()].map((l) => ({ ...l }));
  }
}

/** The same LLM, with its `usage` chunks counted under `vendor`/`model`. */
export function meteredLlm<T extends LlmProvider>(
  llm: T,
  meter: UsageMeter,
  kind: 'llm' | 'analysis',
  vendor: string,
): LlmProvider {
  return {
    name: llm.name,
    async *chat(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmChunk> {
      for await (const chunk of llm.chat(request, signal)) {
        if (chunk.type === 'usage') {
          const { provider = vendor, model = request.model } = chunk;
          meter.addTokens(kind, provider, model, chunk.inputTokens, chunk.outputTokens);
        }
        yield chunk;
      }
    },
  };
}

/** The same TTS, with the characters of every synthesis counted under `vendor`. */
export function meteredTts(tts: TtsProvider, meter: UsageMeter, vendor: string): TtsProvider {
  return {
    name: tts.name,
    synthesize(text: string, options: TtsOptions, signal: AbortSignal) {
      meter.addCharacters(vendor, text.length);
      return tts.synthesize(text, options, signal);
    },
  };
}
