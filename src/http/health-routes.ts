/**
 * `GET /health`: the process and its database, for a load balancer's health check. 200 `ok`;
 * 503 `degraded` when the database does not answer, and 503 `draining` from the moment the
 * server starts shutting down (it admits no new call, its live calls run on up to
 * `PARLEY_DRAIN_TIMEOUT_MS`), so the balancer sends new calls elsewhere at once.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type DatabaseHandle, pingDatabase } from '../db/database.js';

const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('draining')]),
  instance: Type.String({
    description: "this server's id: its calls' owner, its deliveries' lease owner, its live relay's origin",
  }),
  uptimeMs: Type.Integer(),
  database: Type.Object({
    kind: Type.String(),
    ok: Type.Boolean(),
    latencyMs: Type.Number(),
    error: Type.Optional(Type.String()),
  }),
});

export async function healthRoutes(
  app: FastifyInstance,
  opts: {
    database: DatabaseHandle;
    instance: string;
    /** Whether the server is shutting down (`CallService.draining`). */
    draining?: () => boolean;
  },
): Promise<void> {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Process and database health',
        security: [],
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const started = performance.now();
      let error: string | undefined;
      try {
        await pingDatabase(opts.database.db);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const draining = opts.draining?.() === true;
      const status = error ? ('degraded' as const) : draining ? ('draining' as const) : ('ok' as const);
      const body = {
        status,
        instance: opts.instance,
        uptimeMs: Math.round(process.uptime() * 1000),
        database: {
          kind: opts.database.kind,
          ok: !error,
          latencyMs: Math.round((performance.now() - started) * 100) / 100,
          ...(error ? { error } : {}),
        },
      };
      return reply.status(status === 'ok' ? 200 : 503).send(body);
    },
  );
}
