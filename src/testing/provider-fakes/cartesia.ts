/**
 * Protocol fake of Cartesia's `POST /tts/bytes` (`X-API-Key` or `Authorization: Bearer`, and a
 * `Cartesia-Version` header) for raw `pcm_s16le` output: answers with `fakeTtsPcm` at the
 * requested rate in several chunks. Errors follow the version: structured JSON
 * `{error_code, title, message, request_id}` from `2026-03-01`, plain `Title: Message` text
 * before. Speed: `generation_config.speed` (0.6 … 1.5) or the experimental
 * `voice.__experimental_controls.speed` (-1 … 1, taken as a multiplier of 1 + value / 2).
 */
import { randomUUID } from 'node:crypto';
import {
  type FakeErrorReply,
  type PcmTtsFake,
  type PcmTtsFakeOptions,
  type PcmTtsProtocol,
  type RecordedTtsRequest,
  startPcmTtsFake,
} from './pcm-tts-fake.js';

const RATES = new Set([8000, 16000, 22050, 24000, 44100, 48000]);
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  429: 'Too many concurrent requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function structured(version: string | undefined): boolean {
  return (version ?? '') >= '2026-03-01';
}

function cartesiaError(
  r: RecordedTtsRequest | undefined,
  status: number,
  code: string,
  message: string,
): FakeErrorReply {
  const title = TITLES[status] ?? 'Error';
  const version = r?.headers['cartesia-version'];
  if (!structured(typeof version === 'string' ? version : undefined))
    return { status, body: `${title}: ${message}` };
  return { status, body: { error_code: code, title, message, request_id: randomUUID() } };
}

export function cartesiaProtocol(apiKey: string, apiVersion = '2025-04-16'): PcmTtsProtocol {
  return {
    audioContentType: 'application/octet-stream',
    errorBody(status, message) {
      const code =
        status === 401 ? 'invalid_api_key' : status === 429 ? 'concurrency_limited' : 'internal_error';
      const version = { headers: { 'cartesia-version': apiVersion } } as unknown as RecordedTtsRequest;
      return cartesiaError(version, status, code, message).body;
    },
    handle(r) {
      if (r.method !== 'POST' || r.path !== '/tts/bytes')
        return cartesiaError(r, 404, 'not_found', `${r.path} not found`);
      if (r.headers['x-api-key'] !== apiKey && r.headers.authorization !== `Bearer ${apiKey}`) {
        return cartesiaError(r, 401, 'invalid_api_key', 'Invalid API key');
      }
      if (typeof r.headers['cartesia-version'] !== 'string') {
        return cartesiaError(r, 400, 'missing_version', 'Cartesia-Version header is required');
      }
      const b = r.body as {
        model_id?: unknown;
        transcript?: unknown;
        voice?: { mode?: unknown; id?: unknown; __experimental_controls?: { speed?: unknown } };
        output_format?: { container?: unknown; encoding?: unknown; sample_rate?: unknown };
        generation_config?: { speed?: unknown };
      };
      if (typeof b?.model_id !== 'string')
        return cartesiaError(r, 400, 'invalid_request', 'model_id is required');
      if (typeof b.transcript !== 'string' || b.transcript.trim() === '') {
        return cartesiaError(r, 400, 'invalid_request', 'transcript is required');
      }
      if (b.voice?.mode !== 'id' || typeof b.voice.id !== 'string') {
        return cartesiaError(r, 400, 'invalid_request', 'voice must be {mode: "id", id}');
      }
      const f = b.output_format;
      const rate = Number(f?.sample_rate);
      if (f?.container !== 'raw' || f.encoding !== 'pcm_s16le' || !RATES.has(rate)) {
        return cartesiaError(r, 400, 'invalid_request', 'this fake speaks raw pcm_s16le at a supported rate');
      }
      let speed = 1;
      const experimental = b.voice.__experimental_controls?.speed;
      if (b.generation_config?.speed !== undefined) {
        const s = b.generation_config.speed;
        if (typeof s !== 'number' || s < 0.6 || s > 1.5)
          return cartesiaError(r, 400, 'invalid_request', 'speed 0.6 … 1.5');
        speed = s;
      } else if (experimental !== undefined) {
        if (typeof experimental !== 'number' || experimental < -1 || experimental > 1) {
          return cartesiaError(r, 400, 'invalid_request', 'experimental speed -1 … 1');
        }
        speed = 1 + experimental / 2;
      }
      return { text: b.transcript, sampleRate: rate, speed };
    },
  };
}

/** Cartesia fake: `url` is the API root (`baseUrl`), requests go to `/tts/bytes`. */
export function startCartesiaFake(
  options: PcmTtsFakeOptions & { apiVersion?: string } = {},
): Promise<PcmTtsFake> {
  return startPcmTtsFake(cartesiaProtocol(options.apiKey ?? 'test-key', options.apiVersion), options);
}
