import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.js';
import { ErrorResponseSchema } from '../shared/api-error.js';
import type { LiveEvent, LiveEventHub } from './live-events.js';
import { eventsAfter, resumeSequence } from './replay.js';
import { defaultSseStreamOptions, SseStream, type SseStreamOptions } from './sse-stream.js';

const StreamQuery = Type.Object(
  {
    callId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: "Only this call's events" }),
    ),
  },
  { additionalProperties: false },
);

/** A resumed stream reads the missed events from storage this many at a time. */
const REPLAY_PAGE = 50;
/** Live events held while replaying; past this, they are dropped and read from storage instead. */
const MAX_HELD = 1_000;

const description = `Server-Sent Events (\`text/event-stream\`) of every event recorded for the key's team, as it happens: the same events your webhooks receive, also those no webhook is configured for. Each event is

\`\`\`
id: <event id>
data: {"teamId", "callId", "type", "sequence", "event"}
\`\`\`

where \`event\` is the webhook body's \`message\` (de-duplicate on \`id\`, order a call's events on \`sequence\`). A comment line (\`: heartbeat\`) comes every 15 s. A team-wide stream does not replay: read a call's past through \`GET /v1/calls/:id\` and the delivery log. A client whose connection does not drain for 30 s, or that falls more than 64 MB behind, is disconnected (reconnect); one event is always let through whatever its size. \`?callId=\` narrows the stream to one call; with it, a reconnecting client's \`Last-Event-ID\` header resumes after that event (the call's later events are replayed first). Browsers: \`EventSource\` cannot send the \`Authorization\` header; read the stream with \`fetch\`.`;

/** One serialisation per event, shared by every stream that sends it (and queued by reference). */
const json = new WeakMap<LiveEvent, string>();
function jsonOf(event: LiveEvent): string {
  let text = json.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    json.set(event, text);
  }
  return text;
}

/**
 * `GET /events/stream`: the live event stream of the key's team. Register inside the
 * authenticated `/v1` scope.
 */
export async function liveEventRoutes(
  root: FastifyInstance,
  opts: { db: Db; live: LiveEventHub; stream?: Partial<SseStreamOptions> },
): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const streamOptions = { ...defaultSseStreamOptions, ...opts.stream };
  const open = new Set<SseStream>();
  app.addHook('onClose', async () => {
    for (const stream of [...open]) stream.close('server-closed');
  });

  app.get(
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
      const send = (event: LiveEvent) => stream.send(jsonOf(event), event.event.id);
      const lastEventId = request.headers['last-event-id'];
      const resume = callId && typeof lastEventId === 'string' ? lastEventId.slice(0, 100) : undefined;
      // While the missed events are read, live ones wait, so the stream stays in sequence order.
      let held: LiveEvent[] | undefined = resume ? [] : undefined;
      let heldDropped = false;
      const unsubscribe = opts.live.subscribe({ teamId, ...(callId ? { callId } : {}) }, (event) => {
        if (!held) send(event);
        else if (held.length < MAX_HELD) held.push(event);
        else {
          // Committed before it was published: the replay's next read from storage has it.
          held = [event];
          heldDropped = true;
        }
      });
      if (resume && callId) {
        // Page by page, at the client's pace (each event waits for the previous ones to drain),
        // until a read finds nothing more that was not held.
        let sent = 0;
        const replay = async () => {
          const after = await resumeSequence(opts.db, teamId, callId, resume);
          if (after === undefined) return;
          sent = after;
          for (;;) {
            heldDropped = false;
            const page = await eventsAfter(opts.db, teamId, callId, sent, REPLAY_PAGE);
            for (const event of page) {
              await stream.writable();
              if (stream.closed) return;
              send(event);
              sent = event.sequence;
            }
            if (page.length < REPLAY_PAGE && !heldDropped) return;
          }
        };
        replay()
          .catch((err: unknown) => request.log.warn({ err, callId }, 'live event stream: replay failed'))
          .then(() => {
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
