import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CALL_STATUSES, CallSchema } from '../contract/call-schema.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema, notFound } from '../shared/api-error.js';
import { decodeCursor, PageQuery, page, parseDateParam } from '../shared/pagination.js';
import { loadCallEvents } from '../webhooks/events/event-storage.js';
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
const EVENTS_PAGE_DEFAULT = 100;
const EVENTS_PAGE_MAX = 1_000;
const EVENTS_PAGE_BYTES = 8 * 1024 * 1024;
const EventsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: EVENTS_PAGE_MAX, default: EVENTS_PAGE_DEFAULT }),
    ),
    cursor: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,10}$',
        description: "The previous page's nextCursor (a sequence number): events after it",
      }),
    ),
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
          createdAfter: q.createdAfter ? parseDateParam(q.createdAfter, 'createdAfter') : undefined,
          createdBefore: q.createdBefore ? parseDateParam(q.createdBefore, 'createdBefore') : undefined,
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
  app.get<{ Params: { id: string }; Querystring: Static<typeof EventsQuery> }>(
    '/calls/:id/events',
    {
      schema: {
        tags,
        summary:
          'Every event of a call, in sequence order, as webhooks carry them (whether or not any webhook was configured)',
        description: `Paginated by sequence: \`limit\` events (default ${EVENTS_PAGE_DEFAULT}, at most ${EVENTS_PAGE_MAX}) after \`cursor\` (the previous page's \`nextCursor\`; none: from the start). A page also ends once it holds about ${EVENTS_PAGE_BYTES / 1024 / 1024} MB of events (always at least one event), since each event carries the whole conversation so far. \`nextCursor\` is null on the last page.`,
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        querystring: EventsQuery,
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
            nextCursor: Type.Union([Type.String(), Type.Null()], {
              description: 'The sequence after which the next page starts; null on the last page',
            }),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const limit = request.query.limit ?? EVENTS_PAGE_DEFAULT;
      const after = request.query.cursor === undefined ? 0 : Number(request.query.cursor);
      // Sequences are PostgreSQL integers.
      if (after > 2_147_483_647) throw new ApiError(400, 'invalid_request', 'cursor is invalid', 'cursor');
      if (!(await findCall(db, request.team.id, id))) throw notFound('call');
      // One more than the limit tells whether there is a next page.
      const rows = await loadCallEvents(db, request.team.id, id, { afterSequence: after, limit: limit + 1 });
      // Serialised here, once: each event is as large as the conversation, and the page is cut by size.
      const items: string[] = [];
      let bytes = 0;
      let last = after;
      for (const row of rows.slice(0, limit)) {
        if (items.length > 0 && bytes >= EVENTS_PAGE_BYTES) break;
        const item = JSON.stringify({ callId: id, type: row.type, sequence: row.sequence, event: row.event });
        items.push(item);
        bytes += item.length;
        last = row.sequence;
      }
      const more = rows.length > items.length;
      return reply
        .type('application/json; charset=utf-8')
        .send(`{"data":[${items.join(',')}],"nextCursor":${more ? `"${last}"` : 'null'}}`);
    },
  );
}
