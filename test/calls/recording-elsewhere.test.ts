import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCall } from '../../src/calls/call-store.js';
import { sampleCall } from '../support/samples.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * Local-disk recordings with several servers: a recording made on another server (the call's
 * row is owned by another instance) is not on this server's disk; the API says so (409) instead
 * of 404.
 */
let server: TestServer;
let key: string;
let teamId: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ key, teamId } = await server.createTeam('recordings'));
});
afterAll(() => server?.close());

async function recordedCall(owner: string) {
  const call = sampleCall({ teamId, assistantId: 'asst_1' });
  const finished = { ...call, status: 'finished' as const, recording: { path: `recordings/${call.id}.wav` } };
  await insertCall(server.database.db, finished);
  await server.database.db.updateTable('calls').set({ owner }).where('id', '=', call.id).execute();
  return finished;
}

describe('a local recording asked of a server that did not make it', () => {
  it('GET /v1/calls/:id/recording answers 409 saying local recordings are served by the server that made them', async () => {
    const call = await recordedCall('inst_another_server');
    const res = await server.request(key, { method: 'GET', url: `/v1/calls/${call.id}/recording` });
    expect(res.statusCode).toBe(409);
    const error = res.json().error;
    expect(error.code).toBe('recording_on_another_server');
    expect(error.message).toContain('served only by that server');
    expect(error.message).toContain('S3');

    // The signed link, followed to this server, says the same.
    const recordings = server.parley.calls.recordings;
    const link = new URL(recordings?.signedUrl(`${call.id}.wav`) ?? '');
    const viaLink = await server.request(undefined, { method: 'GET', url: link.pathname + link.search });
    expect(viaLink.statusCode).toBe(409);
  });

  it("this server's own call whose file is missing is still a 404; its file present is served", async () => {
    const call = await recordedCall(server.parley.instance);
    const missing = await server.request(key, { method: 'GET', url: `/v1/calls/${call.id}/recording` });
    expect(missing.statusCode).toBe(404);
    const dir = join(server.dataDir, 'recordings');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${call.id}.wav`), Buffer.alloc(44));
    const found = await server.request(key, { method: 'GET', url: `/v1/calls/${call.id}/recording` });
    expect(found.statusCode).toBe(200);
    expect(found.headers['content-type']).toBe('audio/wav');
  });
});
