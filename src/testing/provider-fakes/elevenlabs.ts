/** Protocol fake of ElevenLabs' streaming text-to-speech endpoint (`/v1/text-to-speech/{voice}/stream`). */
import {
  type FakeErrorReply,
  type PcmTtsFake,
  type PcmTtsFakeOptions,
  type PcmTtsProtocol,
  startPcmTtsFake,
} from './pcm-tts-fake.js';

export { fakeTtsPcm, type PcmTtsFake } from './pcm-tts-fake.js';

/** Output formats ElevenLabs offers as raw PCM16. */
const ELEVENLABS_PCM_RATES = new Set([8000, 16000, 22050, 24000, 44100, 48000]);

function elevenLabsError(status: number, code: string, message: string): FakeErrorReply {
  return { status, body: { detail: { status: code, message } } };
}

export function elevenLabsProtocol(apiKey: string): PcmTtsProtocol {
  return {
    audioContentType: 'audio/pcm',
    errorBody(status, message) {
      const code =
        status === 401
          ? 'invalid_api_key'
          : status === 429
            ? 'too_many_concurrent_requests'
            : status === 503
              ? 'system_busy'
              : 'internal_server_error';
      return elevenLabsError(status, code, message).body;
    },
    handle(r) {
      const match = /^\/v1\/text-to-speech\/([^/]+)\/stream$/.exec(r.path);
      if (r.method !== 'POST' || !match) return { status: 404, body: { detail: 'Not Found' } };
      if (r.headers['xi-api-key'] !== apiKey)
        return elevenLabsError(401, 'invalid_api_key', 'Invalid API key');
      const format = /^pcm_(\d+)$/.exec(r.query.output_format ?? '');
      const rate = Number(format?.[1]);
      if (!ELEVENLABS_PCM_RATES.has(rate)) {
        return elevenLabsError(
          400,
          'invalid_output_format',
          `unsupported output_format ${r.query.output_format}`,
        );
      }
      const body = r.body as { text?: unknown; model_id?: unknown; voice_settings?: { speed?: unknown } };
      if (typeof body?.text !== 'string') {
        return {
          status: 422,
          body: { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'missing' }] },
        };
      }
      if (body.model_id !== undefined && typeof body.model_id !== 'string') {
        return elevenLabsError(400, 'invalid_model_id', 'model_id must be a string');
      }
      const speed = body.voice_settings?.speed ?? 1;
      if (typeof speed !== 'number' || speed < 0.7 || speed > 1.2) {
        return elevenLabsError(400, 'invalid_voice_settings', 'speed must be within 0.7 … 1.2');
      }
      return { text: body.text, sampleRate: rate, speed };
    },
  };
}

/** ElevenLabs fake: `url` is the API root (`baseUrl`), requests go to `/v1/text-to-speech/...`. */
export function startElevenLabsFake(options: PcmTtsFakeOptions = {}): Promise<PcmTtsFake> {
  return startPcmTtsFake(elevenLabsProtocol(options.apiKey ?? 'test-key'), options);
}
