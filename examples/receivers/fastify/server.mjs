// A Parley webhook receiver on Fastify: the plugin keeps the raw body in its own context.
import { answerToolCalls, ConversationTracker } from '@parley/receiver';
import { parleyWebhooks } from '@parley/receiver/node';
import Fastify from 'fastify';

const tracker = new ConversationTracker();
const print = (line) => console.log(JSON.stringify(line));

const app = Fastify();
await app.register(parleyWebhooks, {
  path: '/webhooks/parley',
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
await app.listen({ port: Number(process.env.PORT ?? 4000), host: '127.0.0.1' });
print({ listening: app.server.address().port });
