import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { inspectWav, type RecordingServer, recordedCall, startRecordingServer } from './support.js';

/** Recording on local disk: a real web call over the WebSocket with the fake providers. */
let rs: RecordingServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  rs = await startRecordingServer({ PARLEY_RECORDING_RETENTION_DAYS: '30' });
  receiver = await new WebhookReceiver().start();
});
afterAll(async () => {
  await rs?.close();
  await receiver?.stop();
});

const DAY = 24 * 3600 * 1000;

describe('call recording on local disk', () => {
  it('records both sides into one mono WAV as long as the call', async () => {
    const call = await recordedCall(rs);
    expect(call.assistantCallDuration).toBeGreaterThan(1500);
    const files = await readdir(join(rs.server.dataDir, 'recordings'));
    expect(files).toContain(`${call.id}.wav`);

    const res = await rs.api('GET', `/v1/calls/${call.id}/recording`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = inspectWav(new Uint8Array(await res.arrayBuffer()));
    expect(wav.channels).toBe(1);
    expect(wav.sampleRate).toBe(16000);
    expect(Math.abs(wav.durationMs - call.assistantCallDuration)).toBeLessThanOrEqual(100);
    // The caller's tone and the assistant's tone are both in it (both 4000 at most alone).
    expect(wav.peaks[0]).toBeGreaterThan(3000);

    const stereo = await rs.api('GET', `/v1/calls/${call.id}/recording?channels=stereo`);
    expect(stereo.status).toBe(404);
  });

  it('the end-of-call report carries call.recording and recordingUrl, a signed link that works', async () => {
    const call = await recordedCall(rs, { assistantServer: { url: receiver.url } });
    await receiver.waitFor(
      () =>
        receiver
          .accepted()
          .some((e) => e.message.call.id === call.id && e.message.type === 'end-of-call-report'),
      15_000,
      'end-of-call-report',
    );
    const report = receiver
      .accepted()
      .find((e) => e.message.call.id === call.id && e.message.type === 'end-of-call-report')?.message;
    expect(report.call.recording).toEqual({ path: `recordings/${call.id}.wav` });
    expect(call.recording).toEqual({ path: `recordings/${call.id}.wav` });
    expect(report.recordingUrl).toMatch(
      new RegExp(`^${rs.baseUrl}/recordings/${call.id}\\.wav\\?expires=\\d+&sig=[\\w-]+$`),
    );
    const res = await fetch(report.recordingUrl);
    expect(res.status).toBe(200);
    const wav = inspectWav(new Uint8Array(await res.arrayBuffer()));
    expect(Math.abs(wav.durationMs - report.call.assistantCallDuration)).toBeLessThanOrEqual(100);
  });

  it('a signed URL serves the file without a key, and stops working when it expires', async () => {
    const call = await recordedCall(rs);
    const realNow = rs.recordings.now;
    const t0 = Date.now();
    try {
      rs.recordings.now = () => t0;
      const url = rs.recordings.signedUrl(`${call.id}.wav`, 600);
      expect(url.startsWith(`${rs.baseUrl}/recordings/${call.id}.wav?expires=`)).toBe(true);
      const ok = await fetch(url);
      expect(ok.status).toBe(200);
      const wav = inspectWav(new Uint8Array(await ok.arrayBuffer()));
      expect(Math.abs(wav.durationMs - call.assistantCallDuration)).toBeLessThanOrEqual(100);

      rs.recordings.now = () => t0 + 599_000;
      expect((await fetch(url)).status).toBe(200);
      rs.recordings.now = () => t0 + 601_000;
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('forbidden');

      rs.recordings.now = () => t0;
      const forged = url.replace(/sig=[^&]+/, 'sig=AAAA');
      expect((await fetch(forged)).status).toBe(403);
      const otherFile = url.replace(call.id, 'WC-00000000-0000-4000-8000-000000000000');
      expect((await fetch(otherFile)).status).toBe(403);
      const longer = url.replace(/expires=\d+/, `expires=${Math.floor(t0 / 1000) + 99_999}`);
      expect((await fetch(longer)).status).toBe(403);
    } finally {
      rs.recordings.now = realNow;
    }
  });

  it("another team's key gets 404; an unknown call and a call never connected too", async () => {
    const call = await recordedCall(rs);
    const otherKey = await rs.server.createKey('someone-else');
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`, undefined, otherKey)).status).toBe(404);
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`)).status).toBe(200);
    expect((await rs.api('GET', '/v1/calls/WC-nope/recording')).status).toBe(404);
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`, undefined, 'wrong-key')).status).toBe(401);

    const created = await rs.api('POST', '/v1/calls', { assistant: { name: 'never joined' } });
    const never = (await created.json()) as { id: string };
    await rs.api('POST', `/v1/calls/${never.id}/end`);
    await rs.recordings.idle();
    expect((await rs.api('GET', `/v1/calls/${never.id}/recording`)).status).toBe(404);
  });

  it('recordingEnabled: false records nothing', async () => {
    const call = await recordedCall(rs, { recordingEnabled: false });
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`)).status).toBe(404);
    const files = await readdir(join(rs.server.dataDir, 'recordings'));
    expect(files.filter((f) => f.startsWith(call.id))).toEqual([]);
  });

  it('the retention sweep deletes recordings older than PARLEY_RECORDING_RETENTION_DAYS', async () => {
    const call = await recordedCall(rs);
    expect(await rs.recordings.sweep(Date.now() + 29 * DAY)).toBe(0);
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`)).status).toBe(200);
    expect(await rs.recordings.sweep(Date.now() + 31 * DAY)).toBeGreaterThanOrEqual(1);
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`)).status).toBe(404);
  });
});
