/**
 * The HTTP side of the fake Twilio REST API (Twilio "Call resource"; twilio-node
 * src/rest/api/v2010/account/call.ts): `POST /2010-04-01/Accounts/{AC}/Calls.json` and
 * `POST …/Calls/{CA}.json`, form-encoded, HTTP Basic `AccountSid:AuthToken`, JSON answers and
 * Twilio's JSON errors `{code, message, more_info, status}`. Every request is logged with what
 * it was understood as; the simulator decides what it does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RestRequest } from '../simulator.js';

export interface RestAnswer {
  status: number;
  json: object;
  /** Runs once the answer has been sent (a real carrier's callbacks follow its answer). */
  sent?: () => void;
}

export const restError = (status: number, code: number, message: string): RestAnswer => ({
  status,
  json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

export interface TwilioRestRoutes {
  readonly accountSid: string;
  readonly authToken: string;
  readonly log: RestRequest[];
  createCall(form: URLSearchParams): RestAnswer;
  updateCall(callSid: string, form: URLSearchParams): Promise<RestAnswer>;
}

const CALLS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/;

async function answer(routes: TwilioRestRoutes, req: IncomingMessage): Promise<RestAnswer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const body: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    body[key] = values.length > 1 ? values : (values[0] as string);
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const match = CALLS_PATH.exec(path);
  const callSid = match?.[2];
  const action: RestRequest['action'] = !match
    ? 'other'
    : !callSid
      ? 'create-call'
      : form.has('Status')
        ? 'hangup'
        : form.get('Twiml')?.includes('<Dial')
          ? 'transfer'
          : 'other';
  routes.log.push({ method: req.method ?? '', path, body, action });
  if (!match || req.method !== 'POST') return restError(404, 20404, 'The requested resource was not found');
  const expected = `Basic ${Buffer.from(`${routes.accountSid}:${routes.authToken}`).toString('base64')}`;
  if (req.headers.authorization !== expected || match[1] !== routes.accountSid)
    return restError(401, 20003, 'Authentication Error - invalid username');
  return callSid ? routes.updateCall(callSid, form) : routes.createCall(form);
}

/** Serves `routes` on 127.0.0.1 at a random port. */
export async function startTwilioRest(
  routes: TwilioRestRoutes,
): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer((req, res) => {
    answer(routes, req)
      .catch((error: unknown) => restError(500, 20500, String(error)))
      .then(({ status, json, sent }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json), () => sent?.());
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
