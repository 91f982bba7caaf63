import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.js';
import { ErrorResponseSchema, notFound } from '../http/api-error.js';
import { decodeCursor, PageQuery, page } from '../shared/pagination.js';
import { CALL_STATUSES, CallSchema } from './call-schema.js';
import { findCall, listCalls, toCall } from './call-store.js';

const ListQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(Type.Union(CALL_STATUSES.map((s) => Type.Literal(s)))),
    assistantId: Type.Optional(Type.String({ maxLength: 100 })),
    createdAfter: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive' })),
    createdBefore: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
  },
  { additionalProperties: false },
);
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema };
const tags = ['calls'];

export async function callRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { db } = opts;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/calls',
    {
      schema: {
        tags,
        summary: 'List calls, newest first',
        querystring: ListQuery,
        response: {
          200: Type.Object({
            data: Type.Array(CallSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 20;
      const rows = await listCalls(
        db,
        request.team.id,
        {
          status: q.status,
          assistantId: q.assistantId,
          createdAfter: q.createdAfter ? new Date(q.createdAfter) : undefined,
          createdBefore: q.createdBefore ? new Date(q.createdBefore) : undefined,
        },
        limit + 1,
        decodeCursor(q.cursor),
      );
      const { items, nextCursor } = page(rows, limit);
      return { data: items.map(toCall), nextCursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/calls/:id',
    {
      schema: {
        tags,
        summary: 'Get a call',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: CallSchema, ...errors },
      },
    },
    async (request) => {
      const row = await findCall(db, request.team.id, request.params.id);
      if (!row) throw notFound('call');
      return toCall(row);
    },
  );
  app.get<{ Params: { id: string } }>(
    '/calls/:id/events',
    {
      schema: {
        tags,
        summary:
          'Every event of a call, in sequence order, as webhooks carry them (whether or not any webhook was configured)',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                callId: Type.String(),
                type: Type.String(),
                sequence: Type.Integer(),
                event: Type.Object(
                  {},
                  { additionalProperties: true, description: "The webhook body's `message`" },
                ),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await findCall(db, request.team.id, id))) throw notFound('call');
      const rows = await db
        .selectFrom('call_events')
        .select(['type', 'sequence', 'payload'])
        .where('team_id', '=', request.team.id)
        .where('call_id', '=', id)
        .orderBy('sequence')
        .execute();
      return {
        data: rows.map((r) => ({ callId: id, type: r.type, sequence: r.sequence, event: r.payload })),
      };
    },
  );
}
