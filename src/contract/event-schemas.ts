import { type Static, type TObject, type TProperties, Type } from '@sinclair/typebox';
import { assistantFields, EVENT_TYPES, type EventType } from './assistant-schema.js';
import { CallAnalysisSchema, CallSchema } from './call-schema.js';
import { ConversationMessageSchema } from './conversation-schema.js';

/**
 * Every webhook event of CONTRACT.md, in the default ("interactly") format. These schemas are
 * the single definition: the builder's types come from them, `/v1/schemas/events/:type`
 * serves them, and the tests validate every emitted event against them.
 */
export const WebhookAssistantSchema = Type.Object(
  {
    _id: Type.String(),
    ...assistantFields,
    createdAt: Type.Optional(Type.String()),
    updatedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false, description: 'The resolved assistant; secrets redacted' },
);

export const ToolCallSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.Literal('function'),
    function: Type.Object({ name: Type.String(), arguments: Type.Record(Type.String(), Type.Unknown()) }),
  },
  { additionalProperties: false },
);
export type ToolCall = Static<typeof ToolCallSchema>;

export const EventErrorSchema = Type.Object(
  {
    type: Type.Union(
      ['llm_error', 'stt_error', 'tts_error', 'tool_error', 'webhook_error'].map((t) => Type.Literal(t)),
    ),
    code: Type.String(),
    message: Type.String(),
    provider: Type.String(),
    retryable: Type.Boolean(),
  },
  { additionalProperties: false },
);

const envelope = {
  timestamp: Type.Number({ description: 'epoch ms when the event happened' }),
  id: Type.String({ pattern: '^evt_', description: 'stable across retries and replays' }),
  sequence: Type.Integer({ minimum: 1, description: 'per call, in the order events happened' }),
  call: CallSchema,
  assistant: WebhookAssistantSchema,
  phone: Type.Object({ provider: Type.Object({ name: Type.String() }) }),
  customer: Type.Object({ number: Type.String() }),
};
const messages = Type.Array(ConversationMessageSchema);

function eventSchema<T extends EventType, P extends TProperties>(type: T, extra: P) {
  return Type.Object(
    {
      message: Type.Object(
        { type: Type.Literal(type), ...envelope, ...extra },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false, title: type },
  );
}

export const eventSchemas = {
  'status-update': eventSchema('status-update', {}),
  'conversation-update': eventSchema('conversation-update', { messages }),
  'tool-calls': eventSchema('tool-calls', { toolCallList: Type.Array(ToolCallSchema, { minItems: 1 }) }),
  'assistant-request': eventSchema('assistant-request', {}),
  'end-of-call-report': eventSchema('end-of-call-report', {
    messages,
    analysis: CallAnalysisSchema,
    durationSeconds: Type.Integer({ minimum: 0 }),
    summary: Type.String(),
    endedReason: Type.String(),
    recordingUrl: Type.Optional(Type.String()),
  }),
  hang: eventSchema('hang', { messages }),
  error: eventSchema('error', { messages, error: EventErrorSchema }),
} satisfies Record<EventType, TObject>;

export type EventSchemas = typeof eventSchemas;
export type WebhookEvent<T extends EventType = EventType> = Static<EventSchemas[T]>;
export type EventMessage<T extends EventType = EventType> = WebhookEvent<T>['message'];
export { EVENT_TYPES };
