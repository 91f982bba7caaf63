/**
 * One synthetic caller on one web call, at real-time pace: a microphone that sends a 20 ms frame
 * every 20 ms (speech when the caller talks, silence otherwise), a speaker that "plays" the
 * assistant's audio at 1× and acks each mark when the audio before it has played, and a caller
 * who waits until the assistant has finished speaking, then answers what it was asked (see
 * corpus.ts). Records each caller turn (what was said, what the server transcribed) and the
 * time from the end of the caller's speech to the first assistant audio after it.
 */
import WebSocket from 'ws';
import { type Band, bandRate, callerAudio, words } from './audio.js';
import { type CallerScript, type CallerVoice, DAYS, TIMES } from './corpus.js';
import type { BenchServer, HookMessage } from './server.js';

export type PromptKind = 'offer' | 'day' | 'time' | 'confirm' | 'other';

export interface CallerTurn {
  /** The assistant's message the caller answered ("" when it said its answer again unasked). */
  prompt: string;
  asked: PromptKind;
  said: string;
  heard: string;
  offTopic: boolean;
  /** End of the caller's speech → first assistant audio frame (undefined: none came). */
  latencyMs?: number;
}

export interface CallResult {
  script: CallerScript;
  voice: CallerVoice;
  band: Band;
  turns: CallerTurn[];
  booked: Record<string, unknown>[];
  endedReason: string;
  /** The caller ran out of turns and hung up (the dialog never finished). */
  gaveUp: boolean;
  success: boolean;
  durationMs: number;
}

/** Turns a caller takes before giving up and hanging up. */
const MAX_TURNS = 12;
/** A caller's pause after the assistant's audio has finished playing, before answering. */
const ANSWER_GAP_MS = 300;
/** How long a caller waits for the assistant to reply before saying its answer again. */
const REPLY_WAIT_MS = Number(process.env.BENCH_REPLY_WAIT_MS ?? 10_000);
/** How long a caller waits after a statement with no question for the assistant to go on. */
const STATEMENT_WAIT_MS = 3_000;
/** Samples under this are silence when trimming the synthesised speech. */
const SILENCE = 200;
const FRAME_MS = 20;

/** What the assistant's message asks, from its last question. */
export function classifyPrompt(text: string): PromptKind {
  const t = text.toLowerCase();
  const q =
    t
      .split(/(?<=[?.!])\s+/)
      .filter((s) => s.includes('?'))
      .at(-1) ?? t;
  if (/shall i book|should i book|book (it|that)|is that (right|correct|ok)|did you say|confirm/.test(q))
    return 'confirm';
  if (/what time|which time|\btime\b/.test(q)) return 'time';
  if (/which day|what day|\bday\b/.test(q)) return 'day';
  if (/appointment|like to book/.test(q)) return 'offer';
  return 'other';
}

/** Does the assistant's read-back name only the caller's day and time (and at least one)? */
function readBackMatches(text: string, goal: NonNullable<CallerScript['goal']>): boolean {
  const w = words(text);
  const days = w.filter((x) => (DAYS as readonly string[]).includes(x));
  const times = w.filter((x) => (TIMES as readonly string[]).includes(x));
  return (
    days.length + times.length > 0 && days.every((d) => d === goal.day) && times.every((t) => t === goal.time)
  );
}

function trim(pcm: Int16Array): Int16Array {
  let a = 0;
  let b = pcm.length;
  while (a < b && Math.abs(pcm[a] ?? 0) < SILENCE) a++;
  while (b > a && Math.abs(pcm[b - 1] ?? 0) < SILENCE) b--;
  return pcm.subarray(a, b);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCall(
  server: BenchServer,
  assistantId: string,
  script: CallerScript,
  voice: CallerVoice,
  band: Band,
): Promise<CallResult> {
  const started = performance.now();
  const created = await server.api('POST', '/v1/calls', { assistantId, customer: { name: script.id } });
  const join = (created.json as { id?: string; join?: { url?: string } }) ?? {};
  if (created.status !== 201 || !join.id || !join.join?.url)
    throw new Error(`POST /v1/calls: ${created.status} ${JSON.stringify(created.json)}`);
  const callId = join.id;
  const rate = bandRate(band);
  const frameSamples = (rate * FRAME_MS) / 1000;
  const ws = new WebSocket(join.join.url);
  let closed = false;
  let ready = false;
  let playEnd = 0; // when the assistant audio received so far has finished playing
  let lastAudioAt = 0;
  const finals: string[] = []; // the assistant's messages as stored
  let heard: string[] = []; // final transcripts since the caller last spoke
  let speech: Int16Array | undefined;
  let speechPos = 0;
  let speechEndAt = 0;
  let firstAudioAfter: number | undefined;
  // Assistant audio arrived while the caller spoke (a late reply, a reprompt): the turn overlapped
  // and its latency is not a reply latency.
  let overlapped = false;
  let speechDone: (() => void) | undefined;

  ws.on('message', (data, isBinary) => {
    const now = performance.now();
    if (isBinary) {
      playEnd = Math.max(playEnd, now) + FRAME_MS;
      lastAudioAt = now;
      if (speech) overlapped = true;
      else if (speechEndAt && firstAudioAfter === undefined) firstAudioAfter = now;
      return;
    }
    const m = JSON.parse(String(data)) as { type: string; final?: boolean; text?: string; id?: string };
    if (m.type === 'ready') ready = true;
    else if (m.type === 'mark')
      setTimeout(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'mark', id: m.id }));
      }, playEnd - now);
    else if (m.type === 'clear') playEnd = now;
    else if (m.type === 'assistant-text' && m.final) finals.push(m.text ?? '');
    else if (m.type === 'transcript' && m.final) heard.push(m.text ?? '');
  });
  // A call that ends while the caller speaks ends its utterance too.
  ws.on('close', () => {
    closed = true;
    speechDone?.();
  });
  ws.on('error', () => {
    closed = true;
    speechDone?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', version: 1, sampleRate: rate, frameMs: FRAME_MS }));
  while (!ready && !closed) await sleep(10);

  // The microphone: one frame every 20 ms, drift-corrected, until the socket closes.
  const micStart = performance.now();
  let sent = 0;
  const silence = Buffer.alloc(frameSamples * 2);
  const tick = () => {
    if (closed || ws.readyState !== WebSocket.OPEN) return;
    let frame = silence;
    if (speech) {
      const chunk = new Int16Array(frameSamples);
      chunk.set(speech.subarray(speechPos, speechPos + frameSamples));
      speechPos += frameSamples;
      frame = Buffer.from(chunk.buffer);
      if (speechPos >= speech.length) {
        speech = undefined;
        speechEndAt = performance.now();
        speechDone?.();
      }
    }
    ws.send(frame, { binary: true });
    sent++;
    setTimeout(tick, Math.max(0, micStart + sent * FRAME_MS - performance.now()));
  };
  tick();

  const say = async (text: string) => {
    const pcm = trim(await callerAudio(voice, text, band));
    speechEndAt = 0;
    firstAudioAfter = undefined;
    overlapped = false;
    heard = [];
    await new Promise<void>((resolve) => {
      if (closed) return resolve();
      speechDone = resolve;
      speechPos = 0;
      speech = pcm;
    });
  };

  const turns: CallerTurn[] = [];
  const used: Record<PromptKind, number> = { offer: 0, day: 0, time: 0, confirm: 0, other: 0 };
  let lastKind: PromptKind = 'offer';
  let answered = 0; // assistant messages answered so far
  let gaveUp = false;
  const next = (list: string[]) => {
    const kind = lastKind;
    const text = list[Math.min(used[kind], list.length - 1)] ?? 'yes';
    used[kind]++;
    return text;
  };
  const until = async (done: () => boolean) => {
    while (!done()) await sleep(10);
  };
  while (!closed) {
    // Wait for a new assistant message, its audio played out, and a short human pause (or, after
    // the caller spoke, for so long without a reply that it says its answer again).
    const waitFrom = performance.now();
    await until(
      () =>
        closed ||
        (finals.length > answered && performance.now() >= Math.max(playEnd, lastAudioAt) + ANSWER_GAP_MS) ||
        (turns.length > 0 && finals.length === answered && performance.now() - waitFrom > REPLY_WAIT_MS),
    );
    if (closed) break;
    // A statement with no question ("One moment please."): wait a little for what follows.
    if (finals.length > answered && !(finals.at(-1) ?? '').includes('?')) {
      const count = finals.length;
      const from = performance.now();
      await until(() => closed || finals.length > count || performance.now() - from > STATEMENT_WAIT_MS);
      if (closed) break;
      if (finals.length > count) continue;
    }
    const last = turns.at(-1);
    if (last) {
      last.heard = heard.join(' ');
      if (firstAudioAfter !== undefined && speechEndAt && !overlapped)
        last.latencyMs = firstAudioAfter - speechEndAt;
    }
    if (turns.length >= MAX_TURNS) {
      gaveUp = true;
      ws.send(JSON.stringify({ type: 'end' }));
      break;
    }
    const message = finals.length > answered ? (finals.at(-1) ?? '') : '';
    answered = finals.length;
    const kind = message ? classifyPrompt(message) : 'other';
    if (kind !== 'other') lastKind = kind;
    const goal = script.goal;
    let text: string;
    if (lastKind === 'confirm')
      text = !goal
        ? 'no'
        : readBackMatches(message, goal)
          ? (script.yes ?? 'yes')
          : (script.correction ?? `no, ${goal.day} at ${goal.time}`);
    else if (lastKind === 'offer') text = next(script.offer);
    else if (lastKind === 'day') text = next(script.day ?? [goal ? goal.day : 'no thanks, goodbye']);
    else text = next(script.time ?? [goal ? goal.time : 'no thanks, goodbye']);
    turns.push({
      prompt: message,
      asked: kind,
      said: text,
      heard: '',
      offTopic: script.offTopic?.includes(text) ?? false,
    });
    await say(text);
  }
  // The last turn's transcript and reply latency, if the call ended right after it.
  const last = turns.at(-1);
  if (last && !last.heard) {
    last.heard = heard.join(' ');
    if (firstAudioAfter !== undefined && speechEndAt && !overlapped)
      last.latencyMs = firstAudioAfter - speechEndAt;
  }
  if (!closed) {
    // The caller hung up ({type: 'end'}): the server closes; a socket still open after 10 s is closed here.
    const timer = setTimeout(() => ws.terminate(), 10_000);
    await new Promise((r) => ws.once('close', r));
    clearTimeout(timer);
  }
  const report = await server.hooks.report(callId, 20_000);
  const booked = server.hooks
    .events(callId)
    .filter((e: HookMessage) => e.type === 'tool-calls')
    .flatMap((e) => e.toolCallList ?? [])
    .filter((c) => c.function.name === 'bookAppointment')
    .map((c) => c.function.arguments);
  const endedReason = report?.endedReason ?? report?.call?.endedReason ?? 'no-report';
  const endedWell =
    !gaveUp && (endedReason === 'assistant-ended-call' || endedReason === 'customer-ended-call');
  const goal = script.goal;
  const success =
    endedWell &&
    (goal
      ? booked.length === 1 && booked[0]?.day === goal.day && booked[0]?.time === goal.time
      : booked.length === 0);
  return {
    script,
    voice,
    band,
    turns,
    booked,
    endedReason,
    gaveUp,
    success,
    durationMs: performance.now() - started,
  };
}
