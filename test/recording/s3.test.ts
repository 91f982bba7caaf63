import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectWav, type RecordingServer, recordedCall, startRecordingServer } from './support.js';

/**
 * Recording into an S3-compatible store: s3rver (npm `s3rver`, a fake S3 server speaking the S3
 * REST protocol over HTTP, files on disk) started by the test, reached through
 * `@aws-sdk/client-s3` with a path-style endpoint, exactly as a MinIO would be.
 */
let s3: S3rver;
let s3Dir: string;
let rs: RecordingServer;

beforeAll(async () => {
  s3Dir = await mkdtemp(join(tmpdir(), 'parley-s3-'));
  s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: 'call-recordings' }],
  });
  const { port } = await s3.run();
  rs = await startRecordingServer({
    PARLEY_RECORDING_S3_BUCKET: 'call-recordings',
    PARLEY_RECORDING_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    PARLEY_RECORDING_S3_REGION: 'us-east-1',
    PARLEY_RECORDING_S3_ACCESS_KEY_ID: 'S3RVER',
    PARLEY_RECORDING_S3_SECRET_ACCESS_KEY: 'S3RVER',
    PARLEY_RECORDING_S3_FORCE_PATH_STYLE: '1',
    PARLEY_RECORDING_RETENTION_DAYS: '7',
  });
});
afterAll(async () => {
  await rs?.close();
  await s3?.close();
  await rm(s3Dir, { recursive: true, force: true });
});

describe('call recording in an S3-compatible store', () => {
  it('uploads the WAV; GET /v1/calls/:id/recording redirects to a presigned URL', async () => {
    const call = await recordedCall(rs);
    expect(call.recording).toEqual({ s3Bucket: 'call-recordings', path: `recordings/${call.id}.wav` });
    const res = await rs.api('GET', `/v1/calls/${call.id}/recording`);
    expect(res.status).toBe(302);
    const location = res.headers.get('location') ?? '';
    expect(location).toContain(`/call-recordings/recordings/${call.id}.wav?`);
    expect(location).toContain('X-Amz-Signature=');
    const download = await fetch(location);
    expect(download.status).toBe(200);
    const wav = inspectWav(new Uint8Array(await download.arrayBuffer()));
    expect(wav.channels).toBe(1);
    expect(Math.abs(wav.durationMs - call.assistantCallDuration)).toBeLessThanOrEqual(100);
    expect(wav.peaks[0]).toBeGreaterThan(3000);

    const result = await rs.recordings.urlOf(`${call.id}.wav`, `recordings/${call.id}.wav`);
    expect(result).toContain('X-Amz-Expires=');

    const otherKey = await rs.server.createKey('someone-else');
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`, undefined, otherKey)).status).toBe(404);
    // No local file, so no signed local URL either.
    const local = await fetch(rs.recordings.signedUrl(`${call.id}.wav`));
    expect(local.status).toBe(404);
  });

  it('the retention sweep deletes objects older than the setting', async () => {
    const call = await recordedCall(rs);
    expect(await rs.recordings.sweep(Date.now() + 6 * 24 * 3600 * 1000)).toBe(0);
    expect(await rs.recordings.sweep(Date.now() + 8 * 24 * 3600 * 1000)).toBeGreaterThanOrEqual(1);
    expect((await rs.api('GET', `/v1/calls/${call.id}/recording`)).status).toBe(404);
  });
});
