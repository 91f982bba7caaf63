import { type Static, Type } from '@sinclair/typebox';

/** The Call object of seed 000 (field names binding), as every event and the API carry it. */
export const CALL_STATUSES = ['queued', 'ongoing', 'finished', 'forwarded'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export const PHONE_CALL_STATUSES = [
  'queued',
  'ringing',
  'in-progress',
  'completed',
  'ended-with-error',
  'no-answer',
  'busy',
  'failed',
  'canceled',
  'forwarded',
] as const;
export type PhoneCallStatus = (typeof PHONE_CALL_STATUSES)[number];

export const END_TRIGGERS = ['', 'user', 'bot', 'system'] as const;
export type CallEndTrigger = (typeof END_TRIGGERS)[number];

const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

export const CallAnalysisSchema = Type.Object(
  {
    summary: Type.Optional(Type.String()),
    successEvaluation: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    structuredData: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(Type.String({ description: 'Set when analysis failed; says why' })),
  },
  { additionalProperties: true },
);

const Usd = Type.Number({ minimum: 0, description: 'US dollars' });

/** `call.cost` on the end-of-call report: per vendor, per kind and per metered line, in USD. */
export const CallCostSchema = Type.Object(
  {
    currency: Type.Literal('USD'),
    total: Usd,
    vendors: Type.Record(Type.String(), Usd, { description: 'total per vendor' }),
    kinds: Type.Record(Type.String(), Usd, {
      description: 'total per kind: stt, llm, tts, telephony, analysis',
    }),
    breakdown: Type.Array(
      Type.Object(
        {
          kind: Type.String(),
          vendor: Type.String(),
          model: Type.Optional(Type.String()),
          quantity: Type.Number({ minimum: 0 }),
          unit: Type.String({ description: 'audio-minute, input-token, output-token, character or minute' }),
          unitPriceUsd: Usd,
          costUsd: Usd,
          priced: Type.Boolean({ description: 'false when the price table has no price for it (then 0)' }),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);

const Ms = Type.Number({ minimum: 0 });
const LatencySchema = Type.Object(
  {
    provider: Type.String(),
    count: Type.Integer({ minimum: 0 }),
    averageMs: Ms,
    totalMs: Ms,
    minMs: Ms,
    maxMs: Ms,
    distribution: Type.Array(
      Type.Object(
        { fromMs: Ms, toMs: Type.Optional(Ms), count: Type.Integer({ minimum: 0 }) },
        { additionalProperties: true },
      ),
      { description: 'buckets from 0, 100, 200, 300, 600, 1000, 3000, 5000 and 10000 ms; toMs exclusive' },
    ),
  },
  { additionalProperties: true },
);

/** `call.metrics` on the end-of-call report: statistics computed from the per-message metrics. */
export const CallMetricsSchema = Type.Object(
  {
    turns: Type.Object(
      { user: Type.Integer(), bot: Type.Integer(), interrupted: Type.Integer(), skipped: Type.Integer() },
      { additionalProperties: true },
    ),
    botResponseTimeMs: Type.Object(
      { count: Type.Integer(), averageMs: Ms, minMs: Ms, maxMs: Ms },
      { additionalProperties: true },
    ),
    bargeIn: Type.Object({ count: Type.Integer(), meanTimeMs: Ms }, { additionalProperties: true }),
    latency: Type.Object(
      {
        stt: Type.Optional(LatencySchema),
        llm: Type.Optional(LatencySchema),
        tts: Type.Optional(LatencySchema),
      },
      { additionalProperties: true },
    ),
    audio: Type.Object(
      {
        totalAudioReceivedMs: Ms,
        turnsWithAudio: Type.Integer(),
        averageDelayMs: Ms,
        maxDelayMs: Ms,
        totalDelayedPackets: Type.Integer(),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);

export const CallSchema = Type.Object(
  {
    id: Type.String({ description: 'WC-<uuid> for web calls, PC-<uuid> for phone calls' }),
    teamId: Type.String(),
    assistantId: Type.String(),
    callType: lit(['web', 'phone'] as const),
    direction: lit(['inbound', 'outbound'] as const),
    startAt: Type.String({ format: 'date-time' }),
    endAt: Type.Optional(Type.String({ format: 'date-time' })),
    userNumber: Type.String(),
    assistantNumber: Type.String(),
    status: lit(CALL_STATUSES),
    phoneCallStatus: lit(PHONE_CALL_STATUSES),
    phoneCallStatusReason: Type.String(),
    callEndTriggerBy: lit(END_TRIGGERS),
    assistantCallDuration: Type.Integer({ minimum: 0, description: 'milliseconds; 0 until the end' }),
    analysis: CallAnalysisSchema,
    recording: Type.Object(
      { s3Bucket: Type.Optional(Type.String()), path: Type.Optional(Type.String()) },
      { additionalProperties: false },
    ),
    assistantOverrides: Type.Record(Type.String(), Type.Unknown()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    cost: Type.Optional(CallCostSchema),
    metrics: Type.Optional(CallMetricsSchema),
    forwardedTo: Type.Optional(Type.String({ description: 'Destination of a transferred call' })),
    endedReason: Type.Optional(
      Type.String({ description: 'Machine-readable end reason (customer-ended-call …); set at the end' }),
    ),
  },
  { additionalProperties: false },
);
export type Call = Static<typeof CallSchema>;
