import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.js';
import { ErrorResponseSchema } from '../http/api-error.js';
import type { LiveEvent, LiveEventHub } from './live-events.js';
import { eventsAfter } from './replay.js';
import { defaultSseStreamOptions, SseStream, type SseStreamOptions } from './sse-stream.js';

const StreamQuery = Type.Object(
  {
    callId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: "Only this call's events" }),
    ),
  },
  { additionalProperties: false },
);

const description = `Server-Sent Events (\`text/event-stream\`) of every event recorded for the key's team, as it happens: the same events your webhooks receive, also those no webhook is configured for. Each event is

\`\`\`
id: <event id>
data: {"teamId", "callId", "type", "sequence", "event"}
\`\`\`

where \`event\` is the webhook body's \`message\` (de-duplicate on \`id\`, order a call's events on \`sequence\`). A comment line (\`: heartbeat\`) comes every 15 s. A team-wide stream does not replay: read a call's past through \`GET /v1/calls/:id\` and the delivery log. A client that reads too slowly to keep up is disconnected (reconnect). \`?callId=\` narrows the stream to one call; with it, a reconnecting client's \`Last-Event-ID\` header resumes after that event (the call's later events are replayed first). Browsers: \`EventSource\` cannot send the \`Authorization\` header; read the stream with \`fetch\`.`;

/**
 * `GET /events/stream`: the live event stream of the key's team. Register inside the
 * authenticated `/v1` scope.
 */
export async function liveEventRoutes(
  app: FastifyInstance,
  opts: { db: Db; live: LiveEventHub; stream?: Partial<SseStreamOptions> },
): Promise<void> {
  const streamOptions = { ...defaultSseStreamOptions, ...opts.stream };
  const open = new Set<SseStream>();
  app.addHook('onClose', async () => {
    for (const stream of [...open]) stream.close('server-closed');
  });

  app.get<{ Querystring: Static<typeof StreamQuery> }>(
    '/events/stream',
    {
      schema: {
        tags: ['events'],
        summary: 'Live call events (Server-Sent Events)',
        description,
        querystring: StreamQuery,
        produces: ['text/event-stream'],
        response: {
          200: {
            description: 'An endless `text/event-stream`',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          400: ErrorResponseSchema,
          401: ErrorResponseSchema,
        },
      },
    },
    (request, reply) => {
      const teamId = request.team.id;
      const { callId } = request.query;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx: do not buffer the stream.
        'x-accel-buffering': 'no',
      });
      raw.flushHeaders();
      const stream = new SseStream(raw, streamOptions);
      open.add(stream);
      const send = (event: LiveEvent) => stream.send(JSON.stringify(event), event.event.id);
      const lastEventId = request.headers['last-event-id'];
      const resume = callId && typeof lastEventId === 'string' ? lastEventId.slice(0, 100) : undefined;
      // While the missed events are read, live ones wait, so the stream stays in sequence order.
      let held: LiveEvent[] | undefined = resume ? [] : undefined;
      const unsubscribe = opts.live.subscribe({ teamId, ...(callId ? { callId } : {}) }, (event) => {
        if (held) held.push(event);
        else send(event);
      });
      if (resume && callId) {
        eventsAfter(opts.db, teamId, callId, resume)
          .catch((err: unknown) => {
            request.log.warn({ err, callId }, 'live event stream: replay failed');
            return [];
          })
          .then((missed) => {
            let sent = 0;
            for (const event of missed) {
              send(event);
              sent = event.sequence;
            }
            for (const event of held ?? []) if (event.sequence > sent) send(event);
            held = undefined;
          });
      }
      stream.onClose((reason) => {
        unsubscribe();
        open.delete(stream);
        if (reason === 'too-slow') request.log.warn({ teamId }, 'live event stream dropped: client too slow');
      });
    },
  );
}
