/**
 * The API's types. Assistants, calls and conversation messages come straight from the server's
 * TypeBox schemas (type-only imports: erased at build time, so the SDK stays one small file and
 * cannot drift from what the server validates). The rest mirrors the route schemas.
 */
import type {
  Assistant,
  AssistantCreate,
  AssistantPatch,
  EventType,
  FunctionTool,
  Tool,
} from '../../src/contract/assistant-schema.js';
import type { Call, CallStatus } from '../../src/contract/call-schema.js';
import type { ConversationMessage, MessageMetrics } from '../../src/contract/conversation-schema.js';
import type { EventMessage } from '../../src/contract/event-schemas.js';

export type {
  Assistant,
  AssistantCreate,
  AssistantPatch,
  Call,
  CallStatus,
  ConversationMessage,
  EventMessage,
  EventType,
  FunctionTool,
  MessageMetrics,
  Tool,
};

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface PageOptions {
  limit?: number;
  cursor?: string;
}

export interface ListCallsOptions extends PageOptions {
  status?: CallStatus;
  assistantId?: string;
  createdAfter?: string;
  createdBefore?: string;
}

export interface TeamServer {
  url: string;
  /** Write-only: never returned. */
  secret?: string;
  /** Values come back as "[redacted]"; sending "[redacted]" keeps the stored value. */
  headers?: Record<string, string>;
  timeoutSeconds?: number;
  format?: 'interactly' | 'hms';
}

export interface TeamSettings {
  server?: TeamServer;
  defaultAssistantId?: string;
}

export interface Team {
  id: string;
  name: string;
  settings: TeamSettings;
}

export interface TeamSettingsPatch {
  server?: Partial<TeamServer>;
  defaultAssistantId?: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  callId: string | null;
  sequence: number;
  mode: 'notification' | 'sync';
  status: DeliveryStatus;
  url: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  replayOf: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface WebhookAttempt {
  id: string;
  attemptedAt: string;
  url: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** First 4 KB of the receiver's reply. */
  responseSnippet: string;
}

export interface WebhookDeliveryDetail extends WebhookDelivery {
  target: {
    url: string;
    format: string;
    timeoutMs: number;
    headers: Record<string, string>;
    signed: boolean;
  };
  /** The event as sent (default format): `{ message }` or the message itself. */
  payload: unknown;
  attempts: WebhookAttempt[];
}

export interface ListDeliveriesOptions extends PageOptions {
  callId?: string;
  eventType?: EventType;
  status?: DeliveryStatus;
}

export interface TestWebhookResult {
  deliveryId: string;
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseSnippet: string;
  event: unknown;
}

export interface DisabledEndpoint {
  url: string;
  disabledAt: string | null;
  reason: string | null;
}

export interface CallJoin {
  url: string;
  token: string;
  expiresAt: string;
  protocol: string;
}

export type CreatedCall = Call & { join: CallJoin };

export interface CreateCallOptions {
  assistantId?: string;
  assistant?: AssistantCreate;
  assistantOverrides?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  customer?: { number?: string; name?: string };
}

/** One item of the live events stream (`GET /v1/events/stream`). */
export interface LiveEvent {
  callId: string;
  type: EventType;
  sequence: number;
  /** The webhook payload's `message`. */
  event: EventMessage;
}

/** The cloud providers a team can store a key or base URL for (`/v1/provider-credentials/:provider`). */
export const CREDENTIAL_PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'openai-compatible',
  'deepgram',
  'elevenlabs',
  'cartesia',
] as const;
export type CredentialProvider = (typeof CREDENTIAL_PROVIDERS)[number];

/** A team's stored credential for one provider; the key itself is write-only. */
export interface ProviderCredential {
  provider: CredentialProvider;
  /** Last four characters of the key (`…abcd`), or null when only a base URL is stored. */
  apiKeyHint: string | null;
  baseUrl: string | null;
  updatedAt: string;
}

export interface ProviderCredentialList {
  data: ProviderCredential[];
  /** Providers the server's environment configures (a key or a base URL). */
  environment: CredentialProvider[];
}

/** Fields left out are kept; `null` clears one (the environment's value applies again). */
export interface ProviderCredentialPut {
  apiKey?: string | null;
  baseUrl?: string | null;
}
