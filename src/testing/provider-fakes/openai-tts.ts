/**
 * Protocol fake of OpenAI's speech endpoint, `POST /v1/audio/speech` with
 * `Authorization: Bearer <key>` and `{model, input, voice, response_format: "pcm", speed}`:
 * answers with `fakeTtsPcm` at 24 kHz (OpenAI's PCM rate) in several chunks, errors as
 * `{"error":{"message","type","param","code"}}`. See `startPcmTtsFake` for the faults.
 */
import {
  type FakeErrorReply,
  type PcmTtsFake,
  type PcmTtsFakeOptions,
  type PcmTtsProtocol,
  startPcmTtsFake,
} from './pcm-tts-fake.js';

export const OPENAI_FAKE_PCM_RATE = 24_000;
const VOICES = new Set([
  'alloy',
  'ash',
  'ballad',
  'coral',
  'echo',
  'fable',
  'nova',
  'onyx',
  'sage',
  'shimmer',
  'verse',
]);

function openAiError(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): FakeErrorReply {
  return { status, body: { error: { message, type, param, code } } };
}

export function openAiTtsProtocol(apiKey: string): PcmTtsProtocol {
  return {
    audioContentType: 'audio/pcm',
    errorBody(status, message) {
      if (status === 401)
        return openAiError(
          401,
          `Incorrect API key provided: ${message}`,
          'invalid_request_error',
          'invalid_api_key',
        ).body;
      if (status === 429)
        return openAiError(429, `Rate limit reached: ${message}`, 'requests', 'rate_limit_exceeded').body;
      return openAiError(
        status,
        `The server had an error while processing your request: ${message}`,
        'server_error',
        null,
      ).body;
    },
    handle(r) {
      if (r.method !== 'POST' || r.path !== '/v1/audio/speech') {
        return openAiError(404, `Invalid URL (${r.method} ${r.path})`, 'invalid_request_error', null);
      }
      if (r.headers.authorization !== `Bearer ${apiKey}`) {
        return openAiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      }
      const body = r.body as {
        model?: unknown;
        input?: unknown;
        voice?: unknown;
        response_format?: unknown;
        speed?: unknown;
      };
      if (typeof body?.model !== 'string')
        return openAiError(
          400,
          "Missing required parameter: 'model'.",
          'invalid_request_error',
          'missing_required_parameter',
          'model',
        );
      if (typeof body.input !== 'string' || body.input.length === 0) {
        return openAiError(
          400,
          "Missing required parameter: 'input'.",
          'invalid_request_error',
          'missing_required_parameter',
          'input',
        );
      }
      if (body.input.length > 4096) {
        return openAiError(
          400,
          'Input is too long (max 4096 characters).',
          'invalid_request_error',
          'string_above_max_length',
          'input',
        );
      }
      if (typeof body.voice !== 'string' || !VOICES.has(body.voice)) {
        return openAiError(
          400,
          `Invalid value for 'voice': ${String(body.voice)}.`,
          'invalid_request_error',
          'invalid_value',
          'voice',
        );
      }
      if (body.response_format !== 'pcm') {
        return openAiError(
          400,
          'This fake only speaks response_format "pcm".',
          'invalid_request_error',
          'invalid_value',
          'response_format',
        );
      }
      const speed = body.speed ?? 1;
      if (typeof speed !== 'number' || speed < 0.25 || speed > 4) {
        return openAiError(
          400,
          'speed must be within 0.25 and 4.0.',
          'invalid_request_error',
          'invalid_value',
          'speed',
        );
      }
      return { text: body.input, sampleRate: OPENAI_FAKE_PCM_RATE, speed };
    },
  };
}

/** OpenAI speech fake: `url` ends in `/v1` like OpenAI's `baseUrl`. */
export function startOpenAiTtsFake(options: PcmTtsFakeOptions = {}): Promise<PcmTtsFake> {
  return startPcmTtsFake(openAiTtsProtocol(options.apiKey ?? 'test-key'), { ...options, pathPrefix: '/v1' });
}
