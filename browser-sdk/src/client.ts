import { apiErrorFrom, ParleyApiError } from './errors.js';
import { type EventStreamOptions, liveEvents } from './events.js';
import type {
  Assistant,
  AssistantCreate,
  AssistantPatch,
  Call,
  CreateCallOptions,
  CreatedCall,
  CredentialProvider,
  DisabledEndpoint,
  EventType,
  ListCallsOptions,
  ListDeliveriesOptions,
  LiveEvent,
  Page,
  PageOptions,
  ProviderCredential,
  ProviderCredentialList,
  ProviderCredentialPut,
  Team,
  TeamSettingsPatch,
  TestWebhookResult,
  WebhookDelivery,
  WebhookDeliveryDetail,
} from './types.js';
import { type StartCallOptions, WebCall } from './web-call.js';

export interface ParleyClientOptions {
  /** The Parley server, e.g. `https://parley.example.com` (default: this page's origin). */
  baseUrl?: string;
  apiKey: string;
  /** Replaces `fetch` (tests, proxies). */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Typed access to the Parley REST API, the live events stream and web calls. */
export class ParleyClient {
  readonly baseUrl: string;
  readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ParleyClientOptions) {
    const origin = typeof location === 'undefined' ? '' : location.origin;
    this.baseUrl = (options.baseUrl ?? origin).replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** One API request; non-2xx answers throw `ParleyApiError`. */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; signal?: AbortSignal } = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}${queryString(options.query)}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : null,
        signal: options.signal ?? null,
      });
    } catch (error) {
      if ((error as { name?: string }).name === 'AbortError') throw error;
      throw new ParleyApiError(0, 'network_error', `cannot reach Parley: ${(error as Error).message}`);
    }
    if (!response.ok) throw await apiErrorFrom(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // ------------------------------------------------------------------ assistants
  listAssistants(options: PageOptions = {}, signal?: AbortSignal): Promise<Page<Assistant>> {
    return this.request('GET', '/v1/assistants', { query: { ...options }, signal });
  }
  getAssistant(id: string, signal?: AbortSignal): Promise<Assistant> {
    return this.request('GET', `/v1/assistants/${encodeURIComponent(id)}`, { signal });
  }
  createAssistant(body: AssistantCreate, signal?: AbortSignal): Promise<Assistant> {
    return this.request('POST', '/v1/assistants', { body, signal });
  }
  /** JSON merge: objects merge, arrays replace; "[redacted]" header values keep the stored ones. */
  updateAssistant(id: string, patch: AssistantPatch, signal?: AbortSignal): Promise<Assistant> {
    return this.request('PATCH', `/v1/assistants/${encodeURIComponent(id)}`, { body: patch, signal });
  }
  deleteAssistant(id: string, signal?: AbortSignal): Promise<void> {
    return this.request('DELETE', `/v1/assistants/${encodeURIComponent(id)}`, { signal });
  }
  /** Sends a realistic sample event to the assistant's server; the answer is the server's reply. */
  testWebhook(
    id: string,
    type: EventType = 'end-of-call-report',
    signal?: AbortSignal,
  ): Promise<TestWebhookResult> {
    return this.request('POST', `/v1/assistants/${encodeURIComponent(id)}/test-webhook`, {
      body: { type },
      signal,
    });
  }

  // ------------------------------------------------------------------ team
  getTeam(signal?: AbortSignal): Promise<Team> {
    return this.request('GET', '/v1/team', { signal });
  }
  updateTeam(patch: TeamSettingsPatch, signal?: AbortSignal): Promise<Team> {
    return this.request('PATCH', '/v1/team', { body: patch, signal });
  }

  // ------------------------------------------------------------------ provider keys
  /** The team's own provider keys (hints only) and the providers the server's environment configures. */
  listProviderCredentials(signal?: AbortSignal): Promise<ProviderCredentialList> {
    return this.request('GET', '/v1/provider-credentials', { signal });
  }
  /**
   * Sets the team's key and/or base URL for a provider: fields left out are kept, `null` clears
   * one. A base URL on a private address is refused (`ParleyApiError`, `field: 'baseUrl'`).
   */
  putProviderCredential(
    provider: CredentialProvider,
    values: ProviderCredentialPut,
    signal?: AbortSignal,
  ): Promise<ProviderCredential> {
    return this.request('PUT', `/v1/provider-credentials/${encodeURIComponent(provider)}`, {
      body: values,
      signal,
    });
  }
  /** Removes the team's key and base URL for a provider (404 when it has none). */
  deleteProviderCredential(provider: CredentialProvider, signal?: AbortSignal): Promise<void> {
    return this.request('DELETE', `/v1/provider-credentials/${encodeURIComponent(provider)}`, { signal });
  }

  // ------------------------------------------------------------------ calls
  listCalls(options: ListCallsOptions = {}, signal?: AbortSignal): Promise<Page<Call>> {
    return this.request('GET', '/v1/calls', { query: { ...options }, signal });
  }
  getCall(id: string, signal?: AbortSignal): Promise<Call> {
    return this.request('GET', `/v1/calls/${encodeURIComponent(id)}`, { signal });
  }
  createCall(body: CreateCallOptions, signal?: AbortSignal): Promise<CreatedCall> {
    return this.request('POST', '/v1/calls', { body, signal });
  }
  /**
   * One page of a call's recorded events in sequence order (`GET /v1/calls/:id/events`, each
   * item shaped like a live event; pass `nextCursor` back as `cursor` for the next page).
   * Servers without the route answer 404 (`ParleyApiError`).
   */
  listCallEvents(id: string, options: PageOptions = {}, signal?: AbortSignal): Promise<Page<LiveEvent>> {
    return this.request('GET', `/v1/calls/${encodeURIComponent(id)}/events`, {
      query: { ...options },
      signal,
    });
  }
  endCall(id: string, signal?: AbortSignal): Promise<Call> {
    return this.request('POST', `/v1/calls/${encodeURIComponent(id)}/end`, { signal });
  }
  /** The recording as a Blob (the API needs the key, so an `<audio>` cannot fetch it itself). */
  async getRecording(id: string, options: { stereo?: boolean; signal?: AbortSignal } = {}): Promise<Blob> {
    const query = options.stereo ? '?channels=stereo' : '';
    const response = await this.fetchImpl(
      `${this.baseUrl}/v1/calls/${encodeURIComponent(id)}/recording${query}`,
      { headers: { authorization: `Bearer ${this.apiKey}` }, signal: options.signal ?? null },
    );
    if (!response.ok) throw await apiErrorFrom(response);
    return response.blob();
  }
  /** An object URL of the recording for `<audio src>`; revoke it with `URL.revokeObjectURL`. */
  async recordingUrl(id: string, options: { stereo?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    return URL.createObjectURL(await this.getRecording(id, options));
  }

  // ------------------------------------------------------------------ webhooks
  listDeliveries(options: ListDeliveriesOptions = {}, signal?: AbortSignal): Promise<Page<WebhookDelivery>> {
    return this.request('GET', '/v1/webhook-deliveries', { query: { ...options }, signal });
  }
  getDelivery(id: string, signal?: AbortSignal): Promise<WebhookDeliveryDetail> {
    return this.request('GET', `/v1/webhook-deliveries/${encodeURIComponent(id)}`, { signal });
  }
  /** Sends the same event (same id, same body) again at once; returns the new delivery. */
  replayDelivery(id: string, signal?: AbortSignal): Promise<WebhookDelivery> {
    return this.request('POST', `/v1/webhook-deliveries/${encodeURIComponent(id)}/replay`, { signal });
  }
  listDisabledEndpoints(signal?: AbortSignal): Promise<{ data: DisabledEndpoint[] }> {
    return this.request('GET', '/v1/webhook-endpoints', { signal });
  }
  enableEndpoint(url: string, signal?: AbortSignal): Promise<{ url: string; enabled: boolean }> {
    return this.request('POST', '/v1/webhook-endpoints/enable', { body: { url }, signal });
  }

  // ------------------------------------------------------------------ live
  /** The live events stream; iterate with `for await`. Stop it with `options.signal`. */
  events(options: EventStreamOptions = {}): AsyncGenerator<LiveEvent> {
    return liveEvents({ baseUrl: this.baseUrl, apiKey: this.apiKey, fetch: this.fetchImpl }, options);
  }

  /** Callback form of `events()`; returns the function that unsubscribes. */
  subscribe(
    onEvent: (event: LiveEvent) => void,
    options: Omit<EventStreamOptions, 'signal'> = {},
  ): () => void {
    const stop = new AbortController();
    void (async () => {
      try {
        for await (const event of this.events({ ...options, signal: stop.signal })) onEvent(event);
      } catch {
        // reported through options.onError
      }
    })();
    return () => stop.abort();
  }

  /** Creates a web call and joins it over the WebSocket (voice: asks for the microphone). */
  async startCall(options: StartCallOptions): Promise<WebCall> {
    const { mode, signal, ...body } = options;
    const created = await this.createCall(body, signal);
    const call = new WebCall(created, { mode, onEnd: () => this.endCall(created.id).catch(() => undefined) });
    await call.connect(signal);
    return call;
  }
}
