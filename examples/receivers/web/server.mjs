// A Parley webhook receiver as a web-standard (Request) => Response handler: the same `handler`
// is a Next.js route handler (`export const POST = handler`), a Hono route (`c => handler(c.req.raw)`),
// a Cloudflare Worker (`export default { fetch: handler }`), `Deno.serve(handler)` or
// `Bun.serve({ fetch: handler })`. Node has no built-in Request server, so a few lines bridge it here.
import http from 'node:http';
import { Readable } from 'node:stream';
import { answerToolCalls, ConversationTracker, webhookHandler } from '@parley/receiver';

const tracker = new ConversationTracker();
const print = (line) => console.log(JSON.stringify(line));

export const handler = webhookHandler({
  secret: process.env.PARLEY_WEBHOOK_SECRET,
  async onEvent(event, { verified }) {
    const m = event.message;
    print({ event: m.type, id: m.id, sequence: m.sequence, callId: m.call.id, scheme: verified?.scheme });
    for (const change of tracker.push(event).changes) {
      if (change.kind === 'message') {
        const { messageId, role, text } = change.message;
        print({ change: 'message', messageId, role, text });
      } else print({ change: change.kind });
    }
    if (m.type === 'tool-calls') {
      return answerToolCalls(m.toolCallList, (name, args) => {
        if (name === 'getWeather') return { forecast: `sunny in ${args.city}` };
        throw new Error(`unknown tool ${name}`);
      });
    }
  },
});

const server = http.createServer(async (req, res) => {
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]],
    ),
    ...(req.method === 'POST' ? { body: Readable.toWeb(req), duplex: 'half' } : {}),
  });
  const response = await handler(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  print({ listening: server.address().port });
});
