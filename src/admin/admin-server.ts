/**
 * The local admin channel of a server that holds an embedded data directory: HTTP over a Unix
 * socket in `<dataDir>/run/` (a directory of mode 0700, the socket 0600), so only the same OS
 * user can use it. `POST /<operation>` with a JSON body runs one of `operations.ts`; the
 * reply is `{"result": …}` or `{"error": {"code", "message", "field"?}}`.
 */
import { chmod, mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { isOperationName, type OperationContext, OperationInputError, runOperation } from './operations.js';

export interface AdminServer {
  socket: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 65_536;
/** Unix socket paths are limited to 107 bytes on Linux (103 on macOS). */
const MAX_SOCKET_PATH = 100;

async function socketDirectory(dataDir: string): Promise<{ dir: string; temporary: boolean }> {
  const dir = resolve(dataDir, 'run');
  if (join(dir, 'admin.sock').length <= MAX_SOCKET_PATH) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    return { dir, temporary: false };
  }
  return { dir: await mkdtemp(join(tmpdir(), 'parley-admin-')), temporary: true };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new OperationInputError('the request body is too large', '');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new OperationInputError('the request body is not valid JSON', '');
  }
}

export async function startAdminServer(options: {
  dataDir: string;
  ctx: OperationContext;
  logger: Logger;
}): Promise<AdminServer> {
  const { dir, temporary } = await socketDirectory(options.dataDir);
  const socket = join(dir, 'admin.sock');
  // Whoever calls this holds the data directory: a socket file left here is a dead server's.
  await unlink(socket).catch(() => {});
  const server = createServer(async (req, res) => {
    const name = (req.url ?? '').replace(/^\//, '');
    if (req.method !== 'POST' || !isOperationName(name)) {
      send(res, 404, {
        error: { code: 'not_found', message: `no admin operation ${req.method} ${req.url}` },
      });
      return;
    }
    try {
      const input = await readJson(req);
      const result = await runOperation(options.ctx, name, input as never);
      options.logger.info({ operation: name }, 'admin operation done');
      send(res, 200, { result });
    } catch (error) {
      if (error instanceof OperationInputError) {
        const field = error.field ? { field: error.field } : {};
        send(res, 400, { error: { code: 'invalid_request', message: error.message, ...field } });
        return;
      }
      options.logger.error({ err: error, operation: name }, 'admin operation failed');
      send(res, 500, { error: { code: 'internal', message: (error as Error).message } });
    }
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(socket, () => {
      server.off('error', fail);
      done();
    });
  });
  await chmod(socket, 0o600);
  server.unref(); // the HTTP server keeps a serving process alive, not this channel
  return {
    socket,
    close: async () => {
      await new Promise<void>((done) => server.close(() => done()));
      await (temporary ? rm(dir, { recursive: true, force: true }) : unlink(socket).catch(() => {}));
    },
  };
}
