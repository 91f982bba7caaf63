// A Parley webhook receiver on Express. Mount the handler before any express.json(): the
// signature is over the raw body (or use express.raw({ type: 'application/json' }) on the route).
import { answerToolCalls, ConversationTracker } from '@parley/receiver';
import { expressHandler } from '@parley/receiver/node';
import express from 'express';

const tracker = new ConversationTracker();
const print = (line) => console.log(JSON.stringify(line));

const app = express();
app.post(
  '/webhooks/parley',
  expressHandler({
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
  }),
);
app.use(express.json()); // the rest of the app may parse JSON as usual

const server = app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  print({ listening: server.address().port });
});
