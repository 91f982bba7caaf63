import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaErrors } from '../../src/analysis/schema-validator.js';
import type { CallCost } from '../../src/cost/call-cost.js';
import type { CallStatistics } from '../../src/engine/call-statistics.js';
import { demoAssistant } from '../../src/engine/demo-assistant.js';
import { createLocalProviders, type LocalProviders } from '../../src/providers/local-providers.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import { inspectWav } from '../recording/support.js';
import { api, type CallServer, Client, startCallServer } from './support.js';

/**
 * The acceptance call: a caller whose voice is synthesised by flite talks over the WebSocket
 * to the scripted demo assistant (pocketsphinx STT with the dialog's grammar, flite TTS,
 * WebRTC VAD) and books an appointment through its tool; a loopback receiver gets every event.
 */
let cs: CallServer;
let providers: LocalProviders;
let available = false;

beforeAll(async () => {
  providers = await createLocalProviders();
  available = Object.entries(providers.status)
    .filter(([name]) => name !== 'espeak')
    .every(([, s]) => s === 'ok');
  if (!available) return;
  cs = await startCallServer(providers);
  cs.receiver.respond = (event) =>
    event.message?.type === 'tool-calls'
      ? {
          status: 200,
          body: JSON.stringify({
            results: event.message.toolCallList.map((c: { id: string; function: { arguments: object } }) => ({
              toolCallId: c.id,
              result: { booked: true, confirmation: 'PX-42', ...c.function.arguments },
            })),
          }),
        }
      : undefined;
}, 60_000);
afterAll(() => cs?.close());

async function callerFrames(text: string): Promise<{ frames: Buffer[]; speechFrames: number }> {
  const tts = await createFliteTts({ voice: 'kal16' });
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { sampleRate: 16000 }, new AbortController().signal))
    chunks.push(chunk);
  const pcm = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  const silence = Buffer.alloc(16000 * 2 * 0.8); // 800 ms of silence after each reply
  const all = Buffer.concat([Buffer.alloc(16000 * 2 * 0.2), pcm, silence]);
  const frames: Buffer[] = [];
  for (let off = 0; off + 640 <= all.length; off += 640) frames.push(all.subarray(off, off + 640));
  return { frames, speechFrames: Math.ceil((all.length - silence.length) / 640) };
}

describe('spoken booking call (flite caller → pocketsphinx → scripted demo → flite)', () => {
  it('books an appointment; the receiver gets every event in order, schema-valid, with metrics', async (ctx) => {
    if (!available) {
      ctx.skip();
      return;
    }
    const created = await api(cs, 'POST', '/v1/assistants', {
      ...demoAssistant(),
      assistantServer: { url: cs.receiver.url },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const res = await api(cs, 'POST', '/v1/calls', {
      assistantId: created.json._id,
      customer: { name: 'caller' },
    });
    expect(res.status).toBe(201);
    const callId = res.json.id as string;
    const client = await Client.connect(res.json.join.url);
    client.send({ type: 'hello', version: 1, sampleRate: 16000, frameMs: 20 });

    const finals = () => client.of('assistant-text').filter((m) => m.final);
    const replies = ['yes please', 'wednesday', 'eleven', 'yes'];
    const utterances = await Promise.all(replies.map(callerFrames));
    const sttDelays: number[] = [];
    const replyDelays: number[] = [];
    for (const [i, { frames, speechFrames }] of utterances.entries()) {
      // Wait until the assistant has finished speaking its question, then answer in real time.
      await client.waitFor(() => finals().length >= i + 1, 30_000, `assistant message ${i + 1}`);
      let speechEndAt = 0;
      const audioBefore = client.audioFrames;
      let transcriptAt = 0;
      let firstAudioAt = 0;
      const watch = setInterval(() => {
        if (!transcriptAt && client.of('transcript').filter((t) => t.final).length >= i + 1)
          transcriptAt = performance.now();
        if (transcriptAt && !firstAudioAt && client.audioFrames > audioBefore)
          firstAudioAt = performance.now();
      }, 1);
      for (const [n, frame] of frames.entries()) {
        if (client.closed) break;
        client.sendRaw(frame, true);
        if (n === speechFrames - 1) speechEndAt = performance.now();
        await new Promise((r) => setTimeout(r, 20));
      }
      await client
        .waitFor(
          () => client.of('transcript').filter((t) => t.final).length >= i + 1,
          15_000,
          `transcript of "${replies[i]}"`,
        )
        .catch((error) => {
          console.log(
            JSON.stringify(client.messages.filter((m) => m.type !== 'mark' && m.type !== 'metrics')),
          );
          throw error;
        });
      await client.waitFor(() => client.audioFrames > audioBefore || client.closed !== undefined, 10_000);
      await new Promise((r) => setTimeout(r, 5));
      clearInterval(watch);
      sttDelays.push(Math.round(transcriptAt - speechEndAt));
      replyDelays.push(Math.round(firstAudioAt - transcriptAt));
    }
    await client.waitClosed(30_000);
    await cs.receiver.waitFor(
      () =>
        cs.receiver
          .accepted()
          .some((e) => e.message.call.id === callId && e.message.type === 'end-of-call-report'),
      20_000,
      'end-of-call-report',
    );
    const events = cs.receiver
      .accepted()
      .filter((e) => e.message.call.id === callId)
      .sort((a, b) => a.message.sequence - b.message.sequence)
      .map((e) => e.message);
    const types = events.map((e) => e.type);
    const transcripts = client
      .of('transcript')
      .filter((t) => t.final)
      .map((t) => t.text);
    // The generated grammar admits carrier words around an answer ("at eleven" for "eleven"):
    // each transcript holds the reply's words, in order, and at most two more.
    expect(transcripts).toHaveLength(replies.length);
    transcripts.forEach((heard, i) => {
      const want = (replies[i] ?? '').split(' ');
      const words = heard.split(' ');
      expect(words.join(' '), `reply ${i}`).toContain(want.join(' '));
      expect(words.length - want.length, `reply ${i}: extra words`).toBeLessThanOrEqual(2);
    });
    expect(types.slice(0, 2)).toEqual(['status-update', 'status-update']);
    expect(events[0].call.status).toBe('queued');
    expect(events[1].call.status).toBe('ongoing');
    expect(types.slice(-2)).toEqual(['status-update', 'end-of-call-report']);
    expect(types.filter((t) => t === 'tool-calls')).toHaveLength(1);
    const middle = types.slice(2, -2);
    expect(new Set(middle)).toEqual(new Set(['conversation-update', 'tool-calls']));
    expect(cs.receiver.schemaErrors).toEqual([]);
    const report = events.at(-1);
    expect(report.call).toMatchObject({
      status: 'finished',
      callEndTriggerBy: 'bot',
      phoneCallStatus: 'completed',
    });
    const messages = report.messages as {
      role: string;
      text: string;
      metrics: Record<string, Record<string, unknown>>;
    }[];
    expect(messages.at(-1)?.text).toBe(
      'You are booked for wednesday at eleven o clock. Thank you for calling. Goodbye!',
    );
    const tool = events.find((e) => e.type === 'tool-calls');
    expect(tool.toolCallList[0].function).toEqual({
      name: 'bookAppointment',
      arguments: { day: 'wednesday', time: 'eleven' },
    });
    for (const m of messages) {
      expect(Object.keys(m.metrics.timeline ?? {})).toContain('totalElapsedTimeMs');
      if (m.role === 'user') {
        expect(Object.keys(m.metrics.audio ?? {}).sort()).toEqual([
          'audioDelayPerTurnMs',
          'delayedPacketsPerTurnCount',
          'totalAudioReceivedMs',
        ]);
        for (const f of ['timestampMs', 'startOffsetMs', 'endOffsetMs', 'vadMs'])
          expect(m.metrics.stt).toHaveProperty(f);
      } else {
        for (const f of ['audioDurationMs', 'generationTimeMs', 'queueLatencyMs', 'isCachePlaying'])
          expect(m.metrics.tts).toHaveProperty(f);
        expect(m.metrics.llm).toBeDefined();
      }
    }
    // The recording (both sides, mixed) lasts as long as the call, within 100 ms.
    expect(report.call.recording.path).toBe(`recordings/${report.call.id}.wav`);
    expect(report.recordingUrl).toMatch(/\/recordings\/.+\.wav\?expires=\d+&sig=/);
    const recording = await fetch(`${cs.baseUrl}/v1/calls/${report.call.id}/recording`, {
      headers: { authorization: `Bearer ${cs.key}` },
    });
    expect(recording.status).toBe(200);
    const wav = inspectWav(new Uint8Array(await recording.arrayBuffer()));
    expect(Math.abs(wav.durationMs - report.call.assistantCallDuration)).toBeLessThanOrEqual(100);
    expect(wav.peaks[0]).toBeGreaterThan(1000);

    // Post-call: analysis (offline, scripted), cost, statistics (issue 6).
    const demo = demoAssistant();
    const schema = demo.assistantAnalysis?.structuredData?.schema as Record<string, unknown>;
    expect(report.analysis.summary).toMatch(/day wednesday, time eleven/);
    expect(report.summary).toBe(report.analysis.summary);
    expect(report.analysis.successEvaluation).toBe(true);
    expect(report.analysis.structuredData).toEqual({ day: 'wednesday', time: 'eleven' });
    expect(schemaErrors(schema, report.analysis.structuredData)).toBeUndefined();
    expect(report.analysis.error).toBeUndefined();
    expect(report.call.analysis).toEqual(report.analysis);
    const cost = report.call.cost as CallCost;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(cost.currency).toBe('USD');
    expect(sum(cost.breakdown.map((l) => l.costUsd))).toBeCloseTo(cost.total, 8);
    expect(sum(Object.values(cost.vendors))).toBeCloseTo(cost.total, 8);
    expect(Object.keys(cost.vendors).sort()).toEqual(['flite', 'pocketsphinx', 'scripted', 'web']);
    const sttLine = cost.breakdown.find((l) => l.kind === 'stt');
    const lastAudio = Math.max(...messages.map((m) => Number(m.metrics.audio?.totalAudioReceivedMs ?? 0)));
    expect(sttLine?.quantity).toBeGreaterThanOrEqual(lastAudio / 60_000);
    expect(cost.breakdown.find((l) => l.kind === 'tts')?.quantity).toBeGreaterThan(0);
    const stats = report.call.metrics as CallStatistics;
    const users = messages.filter((m) => m.role === 'user');
    const bots = messages.filter((m) => m.role === 'assistant');
    expect(stats.turns).toEqual({ user: users.length, bot: bots.length, interrupted: 0, skipped: 0 });
    expect(stats.turns.user).toBe(4);
    expect(stats.botResponseTimeMs.count).toBe(4);
    expect(stats.latency.llm?.count).toBe(
      bots.filter((m) => m.metrics.llm?.responseLatencyMs !== undefined).length,
    );
    expect(stats.latency.stt?.count).toBe(4);
    for (const l of [stats.latency.stt, stats.latency.llm, stats.latency.tts]) {
      expect(l?.distribution.map((b) => b.fromMs)).toEqual([0, 100, 200, 300, 600, 1000, 3000, 5000, 10000]);
      expect(sum(l?.distribution.map((b) => b.count) ?? [])).toBe(l?.count);
    }
    expect(stats.audio.totalAudioReceivedMs).toBe(lastAudio);
    expect(stats.audio.turnsWithAudio).toBe(4);
    expect(stats.bargeIn.count).toBe(0);
    console.log(JSON.stringify({ analysis: report.analysis, cost, metrics: stats }));
    console.log(
      JSON.stringify({
        transcripts,
        endOfSpeechToTranscriptMs: sttDelays,
        transcriptToFirstAudioMs: replyDelays,
        ttsGenerationMs: messages
          .filter((m) => m.role === 'assistant')
          .map((m) => m.metrics.tts?.generationTimeMs),
      }),
    );
  }, 120_000);
});
