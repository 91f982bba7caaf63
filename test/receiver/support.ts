import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventMessage, VerifiedRequest, WebhookEvent } from '../../packages/receiver/src/index.js';
import { answerToolCalls, assistantRequestReply } from '../../packages/receiver/src/index.js';
import { nodeHandler } from '../../packages/receiver/src/node-entry.js';
import { FakeLlm, fakeProviders } from '../../src/testing/fake-providers.js';
import { api, type CallServer, Client } from '../calls/support.js';

/** One delivery as a receiver built on the package saw it. */
export interface Delivery {
  rawBody: Uint8Array;
  headers: http.IncomingHttpHeaders;
  event: WebhookEvent;
  format: 'interactly' | 'hms';
  verified: VerifiedRequest | undefined;
}

/**
 * A loopback webhook receiver built on `@parley/receiver` (its node:http handler), answering
 * the `getWeather` tool. Records every accepted delivery and every refused one.
 */
export async function startPackageReceiver(secret: string) {
  const deliveries: Delivery[] = [];
  const refused: { status: number; body: string }[] = [];
  /** `hold`: tool calls wait (counted in `held`) until it is false again. */
  const control = { hold: false, held: 0 };
  const handler = nodeHandler({
    secret,
    strict: true,
    async onEvent(event, context) {
      deliveries.push({
        rawBody: context.rawBody as Uint8Array,
        headers: context.headers as http.IncomingHttpHeaders,
        event,
        format: context.format,
        verified: context.verified,
      });
      const m = event.message;
      if (m.type === 'tool-calls') {
        if (control.hold) {
          control.held++;
          await until(() => !control.hold, 'the hold to be released', 60_000);
        }
        return answerToolCalls(m.toolCallList, (name, args) => {
          if (name === 'getWeather') return { forecast: `sunny in ${String(args.city)}` };
          throw new Error(`unknown tool ${name}`);
        });
      }
      if (m.type === 'assistant-request') {
        return assistantRequestReply.assistant({ name: 'from the receiver', welcomeMessage: 'Local hello.' });
      }
      return undefined;
    },
  });
  const server = http.createServer((req, res) => {
    const end = res.end.bind(res);
    // Record refusals (4xx/5xx) with their body.
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (res.statusCode >= 400) refused.push({ status: res.statusCode, body: String(chunk) });
      return (end as (...a: unknown[]) => http.ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return Object.assign(control, {
    url,
    deliveries,
    refused,
    ofCall: (callId: string) => deliveries.filter((d) => d.event.message.call.id === callId),
    close: () =>
      new Promise<void>((resolve) => {
        control.hold = false;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Providers whose LLM asks for the weather tool when the user asks for the weather. */
export function weatherProviders() {
  return fakeProviders({
    llm: new FakeLlm({
      firstTokenMs: 5,
      tokenMs: 1,
      respond: (messages) => {
        const last = messages.at(-1);
        if (last?.role === 'tool') return `The forecast: ${last.content}`;
        if (last?.role === 'user' && /weather/i.test(last.content)) {
          return { toolCalls: [{ name: 'getWeather', arguments: { city: 'Paris' } }] };
        }
        return `You said: ${last?.content ?? 'nothing'}.`;
      },
    }),
    stt: { finalLatencyMs: 20 },
    tts: { firstChunkMs: 5, chunkGenerationMs: 1, msPerChar: 5 },
  });
}

export const weatherTool = (url: string) => ({
  type: 'function',
  name: 'getWeather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  server: { url },
});

/** A text call: welcome, a weather question (tool call), a thank-you, hang-up. Returns the call id. */
export async function runWeatherCall(cs: CallServer, assistantId: string): Promise<string> {
  const created = await api(cs, 'POST', '/v1/calls', { assistantId });
  if (created.status !== 201) throw new Error(`POST /v1/calls: ${JSON.stringify(created.json)}`);
  const client = await Client.connect(created.json.join.url);
  client.send({ type: 'hello', version: 1, sampleRate: 16000, audioOutput: false });
  await client.waitFor(() => client.of('assistant-text').some((m) => m.final), 15_000, 'welcome');
  client.send({ type: 'user-text', text: 'what is the weather in Paris' });
  await client
    .waitFor(
      () => client.of('assistant-text').some((m) => m.final && /sunny in Paris/.test(m.text)),
      15_000,
      'the tool result',
    )
    .catch((err: Error) => {
      throw new Error(`${err.message}; the client got ${JSON.stringify(client.of('assistant-text'))}`);
    });
  client.send({ type: 'user-text', text: 'thanks' });
  await client.waitFor(
    () => client.of('assistant-text').some((m) => m.final && m.text === 'You said: thanks.'),
    15_000,
    'second reply',
  );
  client.send({ type: 'end' });
  await client.waitClosed();
  return created.json.id as string;
}

/** Polls `test` every 20 ms until it holds, or fails after `timeoutMs`. */
export async function until(test: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type { EventMessage };
