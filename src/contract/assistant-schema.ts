import { type Static, type TSchema, Type } from '@sinclair/typebox';

/**
 * The Assistant object of seed 000, plus the tools and call controls Parley adds. One
 * TypeBox definition gives the TypeScript type, the request validator and the OpenAPI
 * document. Defaults live in `assistant-defaults.ts` (applied in code, so PATCH never has
 * defaults injected into it); the `default` keywords here document them.
 */
const Str = (opts: { maxLength?: number; minLength?: number; description?: string; default?: string } = {}) =>
  Type.String({ maxLength: 10_000, ...opts });

export const NOTIFICATION_EVENT_TYPES = [
  'status-update',
  'conversation-update',
  'end-of-call-report',
  'hang',
  'error',
] as const;
export const REQUEST_EVENT_TYPES = ['tool-calls', 'assistant-request'] as const;
export const EVENT_TYPES = [...NOTIFICATION_EVENT_TYPES, ...REQUEST_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

const literalUnion = <T extends readonly string[]>(
  values: T,
  opts: { description?: string; default?: string } = {},
) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  ) as unknown as TSchema & { static: T[number] };

export const LLM_PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'openai-compatible',
  'local',
  'scripted',
] as const;

/**
 * What an HTTP header can carry (visible ASCII, spaces and tabs inside): a value outside it is
 * refused here, with the field named, instead of failing every later delivery.
 */
const HEADER_VALUE = '^([\\x21-\\x7e]([\\x20-\\x7e\\t]*[\\x21-\\x7e])?)?$';

/** A signing secret: sent as is in `x-interactly-secret`, so a header value too. */
export const SecretSchema = (description: string) =>
  Type.String({ minLength: 1, maxLength: 512, pattern: HEADER_VALUE, description });

export const HeadersSchema = Type.Record(
  Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$" }),
  Type.String({ maxLength: 4096, pattern: HEADER_VALUE }),
  {
    description:
      'Extra HTTP headers sent with every request. Values are write-only: responses show "[redacted]".',
    maxProperties: 50,
  },
);

const UrlSchema = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 });

export const ServerSchema = Type.Object(
  {
    url: UrlSchema,
    timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
    secret: Type.Optional(SecretSchema('Write-only.')),
    headers: Type.Optional(HeadersSchema),
  },
  { additionalProperties: false },
);

export const AssistantServerSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'Events are sent only when this is true and url is set' }),
    ),
    url: Type.Optional(UrlSchema),
    messages: Type.Optional(
      Type.Array(literalUnion(EVENT_TYPES), {
        uniqueItems: true,
        description: 'Event types to send. Default: all of them.',
      }),
    ),
    timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 120, default: 20 })),
    headers: Type.Optional(HeadersSchema),
    secret: Type.Optional(SecretSchema('Signs every request. Write-only: never returned.')),
    format: Type.Optional(literalUnion(['interactly', 'hms'] as const, { default: 'interactly' })),
  },
  { additionalProperties: false },
);

const AnalysisPart = {
  enabled: Type.Optional(Type.Boolean()),
  prompt: Type.Optional(Str({ maxLength: 20_000 })),
  provider: Type.Optional(literalUnion(LLM_PROVIDERS)),
  model: Type.Optional(Str({ maxLength: 200 })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
};

export const AssistantAnalysisSchema = Type.Object(
  {
    summary: Type.Optional(
      Type.Object({ ...AnalysisPart, template: Type.Optional(Str()) }, { additionalProperties: false }),
    ),
    successEvaluation: Type.Optional(
      Type.Object(
        {
          ...AnalysisPart,
          rubric: Type.Optional(literalUnion(['pass-fail', 'numeric-1-10', 'descriptive-scale'] as const)),
        },
        { additionalProperties: false },
      ),
    ),
    structuredData: Type.Optional(
      Type.Object(
        { ...AnalysisPart, schema: Type.Optional(Type.Object({}, { additionalProperties: true })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const SpeechConfigSchema = Type.Object(
  {
    stt: Type.Optional(
      Type.Object(
        {
          provider: Type.Optional(Str({ minLength: 1, maxLength: 100, default: 'pocketsphinx' })),
          model: Type.Optional(Str({ maxLength: 200 })),
          language: Type.Optional(Str({ minLength: 2, maxLength: 20, default: 'en-US' })),
          endpointingMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 5000, default: 500 })),
          fallback: Type.Optional(
            Type.Union([
              Type.Object(
                {
                  provider: Str({ minLength: 1, maxLength: 100 }),
                  model: Type.Optional(Str({ maxLength: 200 })),
                  language: Type.Optional(Str({ minLength: 2, maxLength: 20 })),
                },
                {
                  additionalProperties: false,
                  description:
                    'Used for the rest of the call when the primary fails retryably; null removes it',
                },
              ),
              Type.Null(),
            ]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    tts: Type.Optional(
      Type.Object(
        {
          provider: Type.Optional(Str({ minLength: 1, maxLength: 100, default: 'flite' })),
          model: Type.Optional(Str({ maxLength: 200 })),
          voice: Type.Optional(Str({ maxLength: 200, default: 'kal16' })),
          speed: Type.Optional(Type.Number({ minimum: 0.25, maximum: 4 })),
          fallback: Type.Optional(
            Type.Union([
              Type.Object(
                {
                  provider: Str({ minLength: 1, maxLength: 100 }),
                  model: Type.Optional(Str({ maxLength: 200 })),
                  voice: Type.Optional(Str({ maxLength: 200 })),
                },
                {
                  additionalProperties: false,
                  description:
                    'Used for the rest of the call when the primary fails retryably; null removes it',
                },
              ),
              Type.Null(),
            ]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const FunctionToolSchema = Type.Object(
  {
    type: Type.Literal('function'),
    name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    description: Type.Optional(Str({ maxLength: 2000 })),
    parameters: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'JSON Schema of the arguments' }),
    ),
    async: Type.Optional(Type.Boolean({ default: false })),
    server: Type.Optional(ServerSchema),
    messages: Type.Optional(
      Type.Object(
        {
          requestStart: Type.Optional(
            Str({ maxLength: 1000, description: 'Said while waiting for the tool.' }),
          ),
          requestFailed: Type.Optional(Str({ maxLength: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const EndCallToolSchema = Type.Object(
  { type: Type.Literal('endCall'), description: Type.Optional(Str({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export const TransferCallToolSchema = Type.Object(
  {
    type: Type.Literal('transferCall'),
    description: Type.Optional(Str({ maxLength: 2000 })),
    destinations: Type.Array(
      Type.Object(
        {
          number: Type.String({
            maxLength: 256,
            pattern: '^(\\+[1-9][0-9]{6,14}|[sS][iI][pP][sS]?:\\S+)$',
            description: 'E.164 number (+15550100) or a SIP URI (sip:desk@example.com)',
          }),
          description: Type.Optional(Str({ maxLength: 500 })),
          message: Type.Optional(Str({ maxLength: 1000 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
  },
  { additionalProperties: false },
);

/** Lets the model press keypad keys (DTMF) on calls whose medium can send them. */
export const DtmfToolSchema = Type.Object(
  { type: Type.Literal('dtmf'), description: Type.Optional(Str({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export const ToolSchema = Type.Union([
  FunctionToolSchema,
  EndCallToolSchema,
  TransferCallToolSchema,
  DtmfToolSchema,
]);
export type Tool = Static<typeof ToolSchema>;
export type FunctionTool = Static<typeof FunctionToolSchema>;

/** Every writable field. All optional here; `name` is required on create. */
export const assistantFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  welcomeMessage: Type.Optional(Str({ maxLength: 2000 })),
  welcomeMessageMode: Type.Optional(literalUnion(['automatic', 'manual'] as const, { default: 'automatic' })),
  welcomeMessageInterruptionsEnabled: Type.Optional(Type.Boolean()),
  endCallMessage: Type.Optional(Str({ maxLength: 2000 })),
  endCallPhrases: Type.Optional(Type.Array(Str({ minLength: 1, maxLength: 200 }), { maxItems: 50 })),
  bargeInEnabled: Type.Optional(Type.Boolean()),
  clientSayEnabled: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        "Web calls: the client may make the assistant speak a text of its own (`say` with `text`); such lines are marked `clientSupplied` and kept out of the model's history. Off: `say` only plays the welcome message",
    }),
  ),
  assistantProvider: Type.Optional(literalUnion(LLM_PROVIDERS, { default: 'openai' })),
  assistantModel: Type.Optional(Str({ minLength: 1, maxLength: 500 })),
  assistantFallback: Type.Optional(
    Type.Union([
      Type.Object(
        { provider: literalUnion(LLM_PROVIDERS), model: Str({ minLength: 1, maxLength: 500 }) },
        {
          additionalProperties: false,
          description:
            'LLM used for the rest of the call when the primary fails retryably (5xx, 429, timeout); null removes it',
        },
      ),
      Type.Null(),
    ]),
  ),
  assistantSystemPrompt: Type.Optional(Str({ maxLength: 100_000 })),
  assistantTemperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  assistantMaxTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 32_000 })),
  assistantAnalysis: Type.Optional(AssistantAnalysisSchema),
  assistantServer: Type.Optional(AssistantServerSchema),
  config: Type.Optional(
    Type.Object({ speech: Type.Optional(SpeechConfigSchema) }, { additionalProperties: false }),
  ),
  tools: Type.Optional(Type.Array(ToolSchema, { maxItems: 64 })),
  maxDurationSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 4 * 3600, default: 600 })),
  idleTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 2, maximum: 600, default: 10 })),
  idleMessage: Type.Optional(Str({ maxLength: 1000 })),
  recordingEnabled: Type.Optional(Type.Boolean({ default: true })),
  recordingStereo: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'Also store a stereo WAV: caller left, assistant right (GET /v1/calls/:id/recording?channels=stereo)',
    }),
  ),
  voicemailDetection: Type.Optional(
    Type.Union(
      [
        Type.Boolean(),
        Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      ],
      {
        description:
          "Outbound phone calls: ask the carrier's answering-machine detection. On a machine the assistant says `voicemailMessage` and hangs up, or hangs up at once without one (endedReason `voicemail`)",
      },
    ),
  ),
  voicemailMessage: Type.Optional(
    Str({ maxLength: 1000, description: 'Left on an answering machine (with `voicemailDetection`)' }),
  ),
  /** Dialog graph for `assistantProvider: "scripted"` (the call-engine issue defines its shape). */
  dialog: Type.Optional(Type.Object({}, { additionalProperties: true })),
};

export const AssistantCreateSchema = Type.Object(assistantFields, { additionalProperties: false });
export type AssistantCreate = Static<typeof AssistantCreateSchema>;

export const AssistantPatchSchema = Type.Partial(AssistantCreateSchema, { additionalProperties: false });
export type AssistantPatch = Static<typeof AssistantPatchSchema>;

/** What is stored: every field present (defaults applied). Secrets included. */
type OptionalInSpec = 'dialog' | 'assistantFallback' | 'voicemailDetection' | 'voicemailMessage';
export type AssistantSpec = Required<Omit<AssistantCreate, OptionalInSpec>> &
  Pick<AssistantCreate, OptionalInSpec>;

/** The Assistant object as the API and webhooks show it: secrets redacted. */
export const AssistantSchema = Type.Object(
  {
    _id: Type.String({ description: '24 hex characters' }),
    ...assistantFields,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type Assistant = Static<typeof AssistantSchema>;
