/**
 * Protocol fake of Deepgram Aura's REST endpoint, `POST /v1/speak?model=…&encoding=linear16
 * &sample_rate=…&container=none[&speed=…]` with `Authorization: Token <key>` and `{"text"}`:
 * answers with `fakeTtsPcm` at the requested rate in several chunks, errors as
 * `{"err_code","err_msg","request_id"}`. See `startPcmTtsFake` for the faults.
 */
import { randomUUID } from 'node:crypto';
import {
  type FakeErrorReply,
  type PcmTtsFake,
  type PcmTtsFakeOptions,
  type PcmTtsProtocol,
  startPcmTtsFake,
} from './pcm-tts-fake.js';

const LINEAR16_RATES = new Set([8000, 16000, 24000, 32000, 48000]);

function deepgramError(status: number, code: string, message: string): FakeErrorReply {
  return { status, body: { err_code: code, err_msg: message, request_id: randomUUID() } };
}

export function deepgramTtsProtocol(apiKey: string): PcmTtsProtocol {
  return {
    audioContentType: 'audio/l16',
    errorBody(status, message) {
      const code =
        status === 401 ? 'INVALID_AUTH' : status === 429 ? 'TOO_MANY_REQUESTS' : 'INTERNAL_SERVER_ERROR';
      return deepgramError(status, code, message).body;
    },
    handle(r) {
      if (r.method !== 'POST' || r.path !== '/v1/speak') return deepgramError(404, 'NOT_FOUND', 'Not found.');
      if (r.headers.authorization !== `Token ${apiKey}`) {
        return deepgramError(401, 'INVALID_AUTH', 'Invalid credentials.');
      }
      const q = r.query;
      if (!/^aura-/.test(q.model ?? ''))
        return deepgramError(400, 'INVALID_QUERY_PARAMETER', `unknown model ${q.model}`);
      if (q.encoding !== 'linear16' || q.container !== 'none') {
        return deepgramError(
          400,
          'INVALID_QUERY_PARAMETER',
          'this fake speaks encoding=linear16&container=none',
        );
      }
      const rate = Number(q.sample_rate);
      if (!LINEAR16_RATES.has(rate)) {
        return deepgramError(400, 'INVALID_QUERY_PARAMETER', `unsupported sample_rate ${q.sample_rate}`);
      }
      const speed = q.speed === undefined ? 1 : Number(q.speed);
      if (!(speed >= 0.7 && speed <= 1.5))
        return deepgramError(400, 'INVALID_QUERY_PARAMETER', 'speed must be 0.7 … 1.5');
      const text = (r.body as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string' || text.trim() === '') {
        return deepgramError(400, 'INVALID_INPUT', 'text is required');
      }
      if (text.length > 2000) return deepgramError(413, 'PAYLOAD_TOO_LARGE', 'text exceeds 2000 characters');
      return { text, sampleRate: rate, speed };
    },
  };
}

/**
 * Deepgram Aura fake: `url` is the versioned API root (`…/v1`, the `baseUrl` Deepgram's STT and
 * TTS share), requests go to `/v1/speak`.
 */
export function startDeepgramTtsFake(options: PcmTtsFakeOptions = {}): Promise<PcmTtsFake> {
  return startPcmTtsFake(deepgramTtsProtocol(options.apiKey ?? 'test-key'), {
    pathPrefix: '/v1',
    ...options,
  });
}
