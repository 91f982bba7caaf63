import { parseArgs } from 'node:util';
import { EVENT_TYPES, type EventType } from '../contract/assistant-schema.js';
import { webhookSecretProblem } from '../shared/webhook-signing.js';

export interface ListenOptions {
  /** The Parley server, e.g. `http://localhost:3000`. */
  serverUrl: string;
  apiKey: string;
  /** Where each event is POSTed. */
  forwardTo: string;
  /** Signs forwarded requests as a real delivery is signed; none: unsigned. */
  secret: string | undefined;
  /** Event types forwarded; undefined: all. */
  events: EventType[] | undefined;
  /** Assistant ids whose calls are forwarded; undefined: all. */
  assistants: string[] | undefined;
  format: 'interactly' | 'hms';
  /** Per forwarded request, ms. */
  timeoutMs: number;
  /** Answer the team's tool-calls and assistant-request through the local receiver. */
  tools: boolean;
}

export const LISTEN_USAGE = `Usage: parley listen --forward-to URL [options]

Forwards the team's live call events to a local webhook receiver, signed like real deliveries.
  --forward-to URL     where to POST each event (http://localhost:4000/webhooks)      (required)
  --url URL            the Parley server (default: $PARLEY_URL or http://localhost:3000)
  --key KEY            API key of the team (default: $PARLEY_API_KEY)                 (required)
  --secret SECRET      sign as an assistant with this secret does (default: $PARLEY_WEBHOOK_SECRET)
  --events A,B         only these event types (status-update, conversation-update, …)
  --assistant ID       only calls of this assistant (repeat, or comma-separated)
  --format F           interactly (default) or hms
  --timeout-seconds N  per forwarded request (default 20)
  --tools              also answer the team's tool-calls and assistant-request (of the --assistant
                       ones) with the local receiver, within their budgets, while listen runs
`;

export class ListenUsageError extends Error {}

function httpUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ListenUsageError(`${name} must be a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ListenUsageError(`${name} must be an http:// or https:// URL`);
  }
  return url.toString();
}

const list = (values: string[] | undefined) =>
  values
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/** Reads `parley listen` arguments (and their environment defaults); throws ListenUsageError. */
export function parseListenArgs(args: string[], env: NodeJS.ProcessEnv): ListenOptions {
  let values: ReturnType<typeof parse>['values'];
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      options: {
        'forward-to': { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        secret: { type: 'string' },
        events: { type: 'string', multiple: true },
        assistant: { type: 'string', multiple: true },
        format: { type: 'string' },
        'timeout-seconds': { type: 'string' },
        tools: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  try {
    values = parse(args).values;
  } catch (err) {
    throw new ListenUsageError((err as Error).message);
  }
  if (!values['forward-to']) throw new ListenUsageError('--forward-to is required');
  const apiKey = values.key ?? (env.PARLEY_API_KEY || undefined);
  if (!apiKey) throw new ListenUsageError('--key (or PARLEY_API_KEY) is required');
  const secret = values.secret ?? (env.PARLEY_WEBHOOK_SECRET || undefined);
  if (secret !== undefined) {
    const problem = webhookSecretProblem(secret);
    if (problem) throw new ListenUsageError(`--secret: ${problem}`);
  }
  const events = list(values.events);
  for (const type of events ?? []) {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new ListenUsageError(
        `--events: unknown event type ${JSON.stringify(type)} (one of ${EVENT_TYPES.join(', ')})`,
      );
    }
  }
  const format = values.format ?? 'interactly';
  if (format !== 'interactly' && format !== 'hms')
    throw new ListenUsageError('--format must be interactly or hms');
  const timeoutSeconds = values['timeout-seconds'] === undefined ? 20 : Number(values['timeout-seconds']);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 300) {
    throw new ListenUsageError('--timeout-seconds must be a number of seconds between 0 and 300');
  }
  return {
    serverUrl: httpUrl(values.url ?? (env.PARLEY_URL || 'http://localhost:3000'), '--url').replace(
      /\/+$/,
      '',
    ),
    apiKey,
    forwardTo: httpUrl(values['forward-to'], '--forward-to'),
    secret,
    events: events?.length ? (events as EventType[]) : undefined,
    assistants: list(values.assistant)?.length ? list(values.assistant) : undefined,
    format,
    timeoutMs: timeoutSeconds * 1000,
    tools: values.tools === true,
  };
}
