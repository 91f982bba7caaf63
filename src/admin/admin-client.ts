import { request } from 'node:http';
import type { OperationInput, OperationName, OperationResult } from './operations.js';

/** The server holding the data directory could not be reached on its admin socket. */
export class AdminUnavailableError extends Error {}

/** The server answered the operation with an error (invalid input, a failure). */
export class AdminOperationError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Runs one operation in the server listening on the admin `socket`. */
export function callAdmin<N extends OperationName>(
  socket: string,
  name: N,
  input: OperationInput<N>,
  timeoutMs = 30_000,
): Promise<OperationResult<N>> {
  const body = JSON.stringify(input);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method: 'POST',
        path: `/${name}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          let reply: { result?: OperationResult<N>; error?: { message?: string; field?: string } };
          try {
            reply = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(
              new AdminOperationError(
                `the server answered ${res.statusCode} with no JSON`,
                res.statusCode ?? 0,
              ),
            );
            return;
          }
          if (res.statusCode === 200 && reply.result !== undefined) resolve(reply.result);
          else
            reject(
              new AdminOperationError(
                reply.error?.message ?? `the server answered ${res.statusCode}`,
                res.statusCode ?? 0,
                reply.error?.field,
              ),
            );
        });
      },
    );
    req.on('timeout', () => req.destroy(new AdminOperationError(`no answer within ${timeoutMs} ms`, 0)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof AdminOperationError) reject(error);
      else if (['ECONNREFUSED', 'ENOENT'].includes(error.code ?? ''))
        reject(new AdminUnavailableError(`${socket}: ${error.code}`));
      else reject(error);
    });
    req.end(body);
  });
}
