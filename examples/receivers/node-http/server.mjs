// A Parley webhook receiver on plain node:http.
import http from 'node:http';
import { answerToolCalls, ConversationTracker } from '@parley/receiver';
import { nodeHandler } from '@parley/receiver/node';

const tracker = new ConversationTracker(); // keep tracker.toJSON() in your store between requests
const print = (line) => console.log(JSON.stringify(line));

const handler = nodeHandler({
  secret: process.env.PARLEY_WEBHOOK_SECRET,
  async onEvent(event, { verified }) {
    const m = event.message;
    print({ event: m.type, id: m.id, sequence: m.sequence, callId: m.call.id, scheme: verified?.scheme });
    for (const change of tracker.push(event).changes) print({ change: change.kind, ...describe(change) });
    if (m.type === 'tool-calls') {
      return answerToolCalls(m.toolCallList, (name, args) => {
        if (name === 'getWeather') return { forecast: `sunny in ${args.city}` };
        throw new Error(`unknown tool ${name}`);
      });
    }
  },
});

function describe(change) {
  if (change.kind === 'message' || change.kind === 'message-updated') {
    return { messageId: change.message.messageId, role: change.message.role, text: change.message.text };
  }
  if (change.kind === 'status') return { status: change.status, phoneCallStatus: change.phoneCallStatus };
  return {};
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/webhooks/parley') return handler(req, res);
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  print({ listening: server.address().port });
});
