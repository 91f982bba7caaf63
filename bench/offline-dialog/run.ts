/**
 * Offline dialog benchmark (issue 16 item 7): synthetic callers (corpus.ts: 45 scripts, 6
 * voices, some HELD OUT) call the demo assistant through the real server and the web-call
 * WebSocket at real-time pace, at 16 kHz PCM and as a phone line carries them (8 kHz G.711
 * µ-law, decoded to the 8 kHz PCM16 the web protocol takes), with the server's own offline
 * providers (pocketsphinx, the scripted dialog, flite). Prints the machine, one line per call
 * and the figures per band and voice: task success (booked with the right slots, or correctly
 * declined, and the call ended by the goodbye), word error rate, turns per booking, and end of
 * caller speech → first assistant audio p50/p95.
 *
 *   npm run bench:offline-dialog                       (whole corpus: 45 × 6 voices × 2 bands)
 *   CORPUS=small npm run bench:offline-dialog          (8 scripts × 4 voices × 2 bands)
 *   npm run bench:offline-dialog -- --voices           (item 6: the TTS voices, voices.ts)
 *
 * Options (environment): BANDS=pcm16k,mulaw8k; BENCH_CONCURRENCY=3 (calls at once);
 * HELD_OUT=include|exclude|only; SCRIPTS=s01,d01 and VOICES=flite-rms to pick;
 * BENCH_REPLY_WAIT_MS=10000 (a caller not answered for so long says its answer again);
 * BENCH_OUT=file.json to keep every call's turns.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { demoAssistant } from '../../src/engine/demo-assistant.js';
import { type Band, callerAudio } from './audio.js';
import { type CallResult, runCall } from './caller.js';
import {
  type CallerScript,
  type CallerVoice,
  SCRIPTS,
  SMALL_SCRIPTS,
  SMALL_VOICES,
  VOICES,
} from './corpus.js';
import { formatTable, table } from './report.js';
import { startBenchServer } from './server.js';
import { runVoiceBench } from './voices.js';

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}`;
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
console.log(`machine: ${machine}; ${load()}; ${new Date().toISOString()}`);

if (process.argv.includes('--voices')) {
  await runVoiceBench();
  process.exit(0);
}

const list = (name: string) =>
  process.env[name]
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const corpus = process.env.CORPUS ?? 'full';
if (corpus !== 'full' && corpus !== 'small') throw new Error(`CORPUS must be full or small, not ${corpus}`);
const heldOut = process.env.HELD_OUT ?? 'include';
if (!['include', 'exclude', 'only'].includes(heldOut))
  throw new Error(`HELD_OUT must be include, exclude or only, not ${heldOut}`);
const bands = (list('BANDS') ?? ['pcm16k', 'mulaw8k']) as Band[];
for (const b of bands) if (b !== 'pcm16k' && b !== 'mulaw8k') throw new Error(`unknown band ${b}`);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 3);
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new Error('BENCH_CONCURRENCY: a whole number ≥ 1');

const pick = <T extends { id: string; heldOut?: boolean }>(all: T[], small: string[], env: string) => {
  const ids = list(env) ?? (corpus === 'small' ? small : undefined);
  const unknown = ids?.filter((id) => !all.some((x) => x.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`${env}: unknown ${unknown.join(', ')}`);
  return all.filter((x) => !ids || ids.includes(x.id));
};
const scripts = pick(SCRIPTS, SMALL_SCRIPTS, 'SCRIPTS');
const voices = pick(VOICES, SMALL_VOICES, 'VOICES');
const jobs: { script: CallerScript; voice: CallerVoice; band: Band }[] = [];
for (const band of bands)
  for (const voice of voices)
    for (const script of scripts) {
      const held = Boolean(script.heldOut || voice.heldOut);
      if ((heldOut === 'exclude' && held) || (heldOut === 'only' && !held)) continue;
      jobs.push({ script, voice, band });
    }
console.log(
  `corpus ${corpus}: ${scripts.length} scripts × ${voices.length} voices × ${bands.length} bands → ${jobs.length} calls, ${concurrency} at a time`,
);

// Synthesise every answer a caller could give before the calls, so synthesis does not compete
// with the server for the CPU while calls run.
const synthStart = performance.now();
await Promise.all(
  jobs.flatMap(({ script: s, voice, band }) =>
    [
      ...s.offer,
      ...(s.day ?? []),
      ...(s.time ?? []),
      s.yes ?? 'yes',
      'no',
      'no thanks, goodbye',
      ...(s.goal ? [s.goal.day, s.goal.time, s.correction ?? `no, ${s.goal.day} at ${s.goal.time}`] : []),
    ].map((text) => callerAudio(voice, text, band)),
  ),
);
console.log(`caller audio synthesised in ${Math.round(performance.now() - synthStart)} ms`);

const server = await startBenchServer();
const created = await server.api('POST', '/v1/assistants', {
  ...demoAssistant(),
  assistantServer: { url: server.hooks.url },
});
const assistantId = (created.json as { _id?: string })._id;
if (created.status !== 201 || !assistantId)
  throw new Error(`creating the demo assistant: ${created.status} ${JSON.stringify(created.json)}`);

const results: CallResult[] = [];
let nextJob = 0;
const worker = async () => {
  for (;;) {
    const job = jobs[nextJob++];
    if (!job) return;
    const r = await runCall(server, assistantId, job.script, job.voice, job.band);
    results.push(r);
    console.log(
      JSON.stringify({
        n: results.length,
        script: r.script.id,
        voice: r.voice.id,
        band: r.band,
        success: r.success,
        booked: r.booked,
        endedReason: r.endedReason,
        turns: r.turns.map((t) => `[${t.prompt}] ${t.asked}: "${t.said}" → "${t.heard}"`),
        latencyMs: r.turns.map((t) => (t.latencyMs === undefined ? null : Math.round(t.latencyMs))),
      }),
    );
  }
};
const runStart = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
await server.close();

console.log(
  `\n${results.length} calls in ${Math.round((performance.now() - runStart) / 1000)} s; machine: ${machine}; ${load()} (latency figures need an otherwise idle machine)`,
);
console.log(formatTable(table(results)));
if (process.env.BENCH_OUT)
  await writeFile(
    process.env.BENCH_OUT,
    JSON.stringify(
      { machine, corpus, results: results.map((r) => ({ ...r, script: r.script.id, voice: r.voice.id })) },
      null,
      1,
    ),
  );
process.exit(0);
