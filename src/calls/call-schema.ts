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
    cost: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metrics: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    forwardedTo: Type.Optional(Type.String({ description: 'Destination of a transferred call' })),
  },
  { additionalProperties: false },
);
export type Call = Static<typeof CallSchema>;
