import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { findAssistant, specOf } from '../assistants/assistant-store.js';
import { EVENT_TYPES } from '../contract/assistant-schema.js';
import { type EventMessage, eventSchemas } from '../contract/event-schemas.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema, notFound } from '../shared/api-error.js';
import { newEventId } from '../shared/ids.js';
import { afterCursor, decodeCursor, PageQuery, page } from '../shared/pagination.js';
import { errorText, laneKeyOf, newDeliveryId } from './delivery/delivery-job.js';
import { insertDeliveries } from './delivery/delivery-store.js';
import type { Dispatcher } from './delivery/dispatcher.js';
import { assistantServerTarget, type DeliveryTarget, toolCallTarget } from './delivery/routing.js';
import { serializeEvent } from './delivery/wire-format.js';
import { buildEventMessage } from './events/build-event.js';
import { rehydrate } from './events/event-storage.js';
import type { Outbox } from './outbox.js';
import { sampleContext, sampleSpec } from './sample-events.js';

const EventTypeSchema = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)));
const OUTCOMES = ['pending', 'delivered', 'failed'] as const;

const TargetView = Type.Object({
  url: Type.String(),
  format: Type.String(),
  timeoutMs: Type.Number(),
  headers: Type.Record(Type.String(), Type.String(), { description: 'values redacted' }),
  signed: Type.Boolean(),
});

const DeliverySchema = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  callId: Type.Union([Type.String(), Type.Null()]),
  sequence: Type.Integer(),
  mode: Type.Union([Type.Literal('notification'), Type.Literal('sync')]),
  status: Type.Union(OUTCOMES.map((o) => Type.Literal(o))),
  url: Type.String(),
  attemptCount: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  replayOf: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  completedAt: Type.Union([Type.String(), Type.Null()]),
});

const AttemptSchema = Type.Object({
  id: Type.String(),
  attemptedAt: Type.String(),
  url: Type.String(),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Number(),
  error: Type.Union([Type.String(), Type.Null()]),
  responseSnippet: Type.String({ description: 'first 4 KB of the response body' }),
});

const DeliveryDetailSchema = Type.Object({
  ...DeliverySchema.properties,
  target: TargetView,
  payload: Type.Unknown({ description: 'the event as sent (default format)' }),
  attempts: Type.Array(AttemptSchema),
});

const ListQuery = Type.Object(
  {
    ...PageQuery,
    callId: Type.Optional(Type.String({ maxLength: 100 })),
    eventType: Type.Optional(EventTypeSchema),
    status: Type.Optional(Type.Union(OUTCOMES.map((o) => Type.Literal(o)))),
  },
  { additionalProperties: false },
);

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema };
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

type DeliveryRow = {
  id: string;
  event_id: string;
  event_type: string;
  call_id: string | null;
  sequence: number;
  mode: string;
  status: string;
  endpoint_url: string;
  attempt_count: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  replay_of: string | null;
  created_at: Date;
  completed_at: Date | null;
};

function toDelivery(r: DeliveryRow): Static<typeof DeliverySchema> {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    callId: r.call_id,
    sequence: r.sequence,
    mode: r.mode as 'notification' | 'sync',
    status: r.status as (typeof OUTCOMES)[number],
    url: r.endpoint_url,
    attemptCount: r.attempt_count,
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    replayOf: r.replay_of,
    createdAt: r.created_at.toISOString(),
    completedAt: r.completed_at ? r.completed_at.toISOString() : null,
  };
}

function targetView(target: DeliveryTarget): Static<typeof TargetView> {
  return {
    url: target.url,
    format: target.format,
    timeoutMs: target.timeoutMs,
    headers: Object.fromEntries(Object.keys(target.headers).map((k) => [k, '[redacted]'])),
    signed: Boolean(target.secret),
  };
}

/** A delivery of the team's, with the event it carries (as sent); 404 for anything else. */
async function findDeliveryWithEvent(db: Db, teamId: string, id: string) {
  const row = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('call_events', 'call_events.id', 'webhook_deliveries.event_id')
    .selectAll('webhook_deliveries')
    .select(['call_events.payload', 'call_events.message_refs', 'call_events.call_id as event_call_id'])
    .where('webhook_deliveries.team_id', '=', teamId)
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('delivery');
  const [event] = await rehydrate(db, [{ ...row, call_id: row.event_call_id }]);
  return { ...row, event: event as EventMessage };
}

export async function webhookRoutes(
  root: FastifyInstance,
  opts: { db: Db; dispatcher: Dispatcher; outbox: Outbox },
): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { db, dispatcher, outbox } = opts;
  const tags = ['webhooks'];

  app.get(
    '/webhook-deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log, newest first',
        querystring: ListQuery,
        response: {
          200: Type.Object({
            data: Type.Array(DeliverySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 20;
      const cursor = decodeCursor(q.cursor);
      let query = db.selectFrom('webhook_deliveries').selectAll().where('team_id', '=', request.team.id);
      if (q.callId) query = query.where('call_id', '=', q.callId);
      if (q.eventType) query = query.where('event_type', '=', q.eventType);
      if (q.status) query = query.where('status', '=', q.status);
      if (cursor) query = query.where(afterCursor(cursor));
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const { items, nextCursor } = page(rows, limit);
      return { data: items.map(toDelivery), nextCursor };
    },
  );

  app.get(
    '/webhook-deliveries/:id',
    {
      schema: {
        tags,
        summary: 'One delivery with every attempt',
        params: IdParams,
        response: { 200: DeliveryDetailSchema, ...errors },
      },
    },
    async (request) => {
      const row = await findDeliveryWithEvent(db, request.team.id, request.params.id);
      const attempts = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('delivery_id', '=', row.id)
        .orderBy('attempted_at')
        .execute();
      return {
        ...toDelivery(row),
        target: targetView(row.target as unknown as DeliveryTarget),
        payload: row.event,
        attempts: attempts.map((a) => ({
          id: a.id,
          attemptedAt: a.attempted_at.toISOString(),
          url: a.url,
          statusCode: a.status_code,
          latencyMs: a.latency_ms,
          error: a.error,
          responseSnippet: a.response_snippet,
        })),
      };
    },
  );

  app.post(
    '/webhook-deliveries/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send a delivered or failed event again (same event id)',
        description:
          'Creates a new delivery of the same event (same `id`, same body) to the same endpoint, sent at once.',
        params: IdParams,
        response: { 202: DeliverySchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await findDeliveryWithEvent(db, request.team.id, request.params.id);
      const target = row.target as unknown as DeliveryTarget;
      // Replaying to an endpoint disabled by a 410 is asking to reach it again: enabled everywhere.
      await dispatcher.enableEndpoint(request.team.id, target.url);
      const now = Date.now();
      const id = newDeliveryId();
      await insertDeliveries(db, [
        {
          id,
          teamId: request.team.id,
          eventId: row.event_id,
          callId: row.call_id,
          sequence: row.sequence,
          eventType: row.event_type,
          mode: 'notification',
          target,
          status: 'pending',
          nextAttemptAt: now,
          leaseOwner: dispatcher.owner,
          leaseUntil: dispatcher.leaseUntil(now),
          replayOf: row.id,
        },
      ]);
      dispatcher.enqueue([
        {
          id,
          teamId: request.team.id,
          eventId: row.event_id,
          eventType: row.event_type,
          callId: row.call_id,
          sequence: row.sequence,
          laneKey: laneKeyOf(null, target.url, id),
          body: serializeEvent(row.event, target.format),
          target,
          attemptCount: 0,
          firstAttemptAt: null,
          createdAt: now,
          nextAttemptAt: now,
        },
      ]);
      const created = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return reply.status(202).send(toDelivery(created));
    },
  );

  app.post(
    '/webhook-endpoints/enable',
    {
      schema: {
        tags,
        summary: 'Re-enable an endpoint disabled by a 410 Gone',
        description:
          'On every server sharing the database. Deliveries held while it was disabled are sent, in order; those older than 72 h fail.',
        body: Type.Object({ url: Type.String({ maxLength: 2048 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            url: Type.String(),
            enabled: Type.Boolean(),
            resumed: Type.Integer({ description: 'held deliveries now sent again' }),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const resumed = await dispatcher.enableEndpoint(request.team.id, request.body.url);
      return { url: request.body.url, enabled: true, resumed };
    },
  );

  app.get(
    '/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Endpoints disabled by a 410 Gone',
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                url: Type.String(),
                disabledAt: Type.Union([Type.String(), Type.Null()]),
                reason: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const rows = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('team_id', '=', request.team.id)
        .execute();
      return {
        data: rows.map((r) => ({
          url: r.url,
          disabledAt: r.disabled_at ? r.disabled_at.toISOString() : null,
          reason: r.disabled_reason,
        })),
      };
    },
  );

  app.post(
    '/assistants/:id/test-webhook',
    {
      schema: {
        tags,
        summary: "Send a realistic sample event to the assistant's server",
        description:
          'One attempt, sent now and logged in the delivery log; the answer shows what the server replied.',
        params: IdParams,
        body: Type.Object({ type: EventTypeSchema }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            deliveryId: Type.String(),
            ok: Type.Boolean(),
            statusCode: Type.Union([Type.Integer(), Type.Null()]),
            latencyMs: Type.Number(),
            error: Type.Union([Type.String(), Type.Null()]),
            responseSnippet: Type.String(),
            event: Type.Unknown(),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const row = await findAssistant(db, request.team.id, request.params.id);
      if (!row) throw notFound('assistant');
      const spec = specOf(row);
      const assistant = {
        ...spec,
        _id: row.id,
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      };
      const type = request.body.type;
      const firstTool = spec.tools.find((t) => t.type === 'function');
      const target =
        type === 'tool-calls' && firstTool?.type === 'function'
          ? toolCallTarget(spec, firstTool.name)
          : assistantServerTarget(
              {
                ...spec,
                assistantServer: { ...spec.assistantServer, enabled: true, messages: [...EVENT_TYPES] },
              },
              type,
            );
      if (!target)
        throw new ApiError(400, 'invalid_request', 'the assistant has no server url', 'assistantServer.url');
      const ctx = sampleContext(request.team.id, assistant, type);
      const message = buildEventMessage(ctx, sampleSpec(type), {
        id: newEventId(),
        sequence: 1,
        timestamp: Date.now(),
      });
      await db
        .insertInto('call_events')
        .values({
          id: message.id,
          team_id: request.team.id,
          call_id: null,
          sequence: 1,
          type,
          payload: JSON.stringify(message),
        })
        .execute();
      const { deliveryId, result } = await outbox.sendSync(request.team.id, null, message, target);
      return {
        deliveryId,
        ok: result.ok,
        statusCode: result.statusCode ?? null,
        latencyMs: result.latencyMs,
        error: errorText(result),
        responseSnippet: result.responseBodySnippet,
        event: { message },
      };
    },
  );
}

/** Public (no key): the JSON Schema of each event type, from the definitions the code uses. */
export async function eventSchemaRoutes(root: FastifyInstance): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/schemas/events',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'The event types and where their JSON Schemas are',
        security: [],
      },
    },
    async () => ({ data: EVENT_TYPES.map((type) => ({ type, schema: `/v1/schemas/events/${type}` })) }),
  );
  app.get(
    '/v1/schemas/events/:type',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'JSON Schema of one webhook event type (the request body your server receives)',
        security: [],
        params: Type.Object({ type: EventTypeSchema }),
      },
    },
    async (request, reply) => {
      return reply.type('application/schema+json').send(JSON.stringify(eventSchemas[request.params.type]));
    },
  );
}
