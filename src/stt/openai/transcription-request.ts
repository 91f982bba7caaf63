/**
 * One `POST /v1/audio/transcriptions`: the utterance as a WAV file in a multipart form (undici's
 * FormData writes the multipart body), answered with JSON `{text}` or, with `stream=true`,
 * Server-Sent Events `transcript.text.delta` / `transcript.text.done` (parsed by
 * eventsource-parser). A stall (no reply byte for `timeoutMs`, plus upload time for the first)
 * fails with a retryable `timeout`;
 * the caller's abort rejects with an `AbortError`, never a `ProviderError`. A destination the SSRF
 * guard refuses (`dispatcher`, for a team's base URL) is a non-retryable `ssrf_refused`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { createParser } from 'eventsource-parser';
import { type Dispatcher, FormData, fetch } from 'undici';
import { ssrfRefusal } from '../../shared/provider-credentials.js';
import { ProviderError } from '../../shared/provider-error.js';
import { httpError, openAiError } from './errors.js';

export interface TranscriptionRequest {
  url: string;
  apiKey: string;
  wav: Buffer;
  model: string;
  /** ISO-639-1, or undefined to let the model detect it. */
  language: string | undefined;
  prompt: string | undefined;
  stream: boolean;
  /** Ask for token logprobs (gpt-4o models), from which the confidence is computed. */
  logprobs: boolean;
  timeoutMs: number;
  signal: AbortSignal;
  /** With `stream`: the text so far, after each delta. */
  onText?(textSoFar: string): void;
  /** The SSRF-guarded Agent when the base URL is a team's (see `guardedDispatcher`). */
  dispatcher?: Dispatcher | undefined;
}

export interface Transcription {
  text: string;
  /** exp(mean token logprob), when logprobs were returned. */
  confidence: number | undefined;
}

const Logprobs = Type.Optional(Type.Array(Type.Object({ logprob: Type.Number() })));
const JsonReply = Type.Object({ text: Type.String(), logprobs: Logprobs });
const Delta = Type.Object({ type: Type.Literal('transcript.text.delta'), delta: Type.String() });
const Done = Type.Object({
  type: Type.Literal('transcript.text.done'),
  text: Type.String(),
  logprobs: Logprobs,
});
const checkJson = TypeCompiler.Compile(JsonReply);
const checkDelta = TypeCompiler.Compile(Delta);
const checkDone = TypeCompiler.Compile(Done);
const MAX_ERROR_BODY = 4096;
const MAX_REPLY_BYTES = 1024 * 1024;
/** 32 KB/s: a minute of 16 kHz audio (1.9 MB) may take a minute more to upload on a poor link. */
const MIN_UPLOAD_BYTES_PER_MS = 32;

function confidenceOf(logprobs: Static<typeof Logprobs> | undefined): number | undefined {
  if (!logprobs || logprobs.length === 0) return undefined;
  let sum = 0;
  for (const l of logprobs) sum += l.logprob;
  const c = Math.exp(sum / logprobs.length);
  return Number.isFinite(c) ? Math.round(Math.min(1, Math.max(0, c)) * 1000) / 1000 : undefined;
}

class Stalled extends Error {}

export async function transcribe(r: TranscriptionRequest): Promise<Transcription> {
  const form = new FormData();
  form.append('file', new Blob([r.wav], { type: 'audio/wav' }), 'utterance.wav');
  form.append('model', r.model);
  form.append('response_format', 'json');
  if (r.language) form.append('language', r.language);
  if (r.prompt) form.append('prompt', r.prompt);
  if (r.stream) form.append('stream', 'true');
  if (r.logprobs) form.append('include[]', 'logprobs');

  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = (ms = r.timeoutMs) => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new Stalled()), ms);
  };
  const signal = AbortSignal.any([r.signal, stall.signal]);
  // Until the reply starts, the upload has to fit in too (at no less than MIN_UPLOAD_BYTES_PER_MS).
  touch(r.timeoutMs + Math.ceil(r.wav.length / MIN_UPLOAD_BYTES_PER_MS));
  let responded = false;
  try {
    const res = await fetch(r.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${r.apiKey}`,
        accept: r.stream ? 'text/event-stream' : 'application/json',
      },
      body: form,
      signal,
      ...(r.dispatcher ? { dispatcher: r.dispatcher } : {}),
    });
    responded = true;
    touch();
    const chunks = readBody(res.body, () => touch());
    if (!res.ok) {
      let body = '';
      for await (const chunk of chunks) {
        body += chunk;
        if (body.length > MAX_ERROR_BODY) break;
      }
      throw httpError(res.status, body, res.headers.get('retry-after'));
    }
    const isSse = (res.headers.get('content-type') ?? '').includes('text/event-stream');
    return isSse ? await readEvents(chunks, r.onText) : await readJson(chunks);
  } catch (error) {
    if (r.signal.aborted)
      throw r.signal.reason instanceof Error ? r.signal.reason : new DOMException('aborted', 'AbortError');
    if (stall.signal.aborted)
      throw openAiError('timeout', `OpenAI sent nothing for ${r.timeoutMs} ms`, true, error);
    if (error instanceof ProviderError) throw error;
    const refused = ssrfRefusal(error, 'stt_error', 'openai');
    if (refused) throw refused;
    const detail =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw openAiError(
      responded ? 'connection_lost' : 'connection_failed',
      `OpenAI transcription request failed: ${detail}`,
      true,
      error,
    );
  } finally {
    clearTimeout(timer);
  }
}

async function* readBody(body: AsyncIterable<Uint8Array> | null, touch: () => void): AsyncGenerator<string> {
  if (!body) return;
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    touch();
    yield decoder.decode(chunk, { stream: true });
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

async function readJson(chunks: AsyncIterable<string>): Promise<Transcription> {
  let text = '';
  for await (const chunk of chunks) {
    text += chunk;
    if (text.length > MAX_REPLY_BYTES) throw openAiError('invalid_response', 'OpenAI reply too large', true);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw openAiError('invalid_response', 'OpenAI sent a malformed JSON reply', true, error);
  }
  if (!checkJson.Check(value)) throw openAiError('invalid_response', 'OpenAI reply has no text', true);
  return { text: value.text, confidence: confidenceOf(value.logprobs) };
}

async function readEvents(
  chunks: AsyncIterable<string>,
  onText?: (text: string) => void,
): Promise<Transcription> {
  let soFar = '';
  let done: Transcription | undefined;
  let failure: Error | undefined;
  const parser = createParser({
    onEvent(event) {
      if (done || failure || event.data === '[DONE]') return;
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        return;
      }
      if (checkDelta.Check(value)) {
        soFar += value.delta;
        onText?.(soFar);
      } else if (checkDone.Check(value)) {
        done = { text: value.text, confidence: confidenceOf(value.logprobs) };
      } else if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'error') {
        failure = httpError(500, JSON.stringify(value), null);
      }
    },
  });
  for await (const chunk of chunks) {
    parser.feed(chunk);
    if (failure) throw failure;
    if (done) return done;
  }
  if (done) return done;
  throw openAiError('connection_lost', 'OpenAI ended the transcription stream before it was done', true);
}
