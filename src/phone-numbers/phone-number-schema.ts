/**
 * The `/v1/phone-numbers` resource: a team's number at a carrier, the assistant that answers it,
 * where its `assistant-request` goes, where calls go when no assistant can be had, the carrier
 * credentials Parley calls the carrier's API with (write-only for secrets), and the URLs to paste
 * into the carrier's console (`carrierSetup`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { ServerSchema } from '../contract/assistant-schema.js';

export const CARRIER_NAMES = ['twilio', 'telnyx', 'vonage', 'plivo'] as const;

/** E.164: a plus, a non-zero digit, at most 15 digits in all. */
export const E164 = /^\+[1-9][0-9]{1,14}$/;
export const E164_HINT =
  'must be E.164: "+", the country code and the number, 15 digits at most (e.g. +14155550100)';

const NumberField = Type.String({
  maxLength: 32,
  description: 'E.164, e.g. +14155550100',
  examples: ['+14155550100'],
});

export const DestinationSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('number'),
      number: NumberField,
      callerId: Type.Optional(NumberField),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('sip'),
      sipUri: Type.String({ pattern: '^sips?:', maxLength: 512, description: 'sip:user@host' }),
    },
    { additionalProperties: false },
  ),
]);

const CredentialsInput = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 8192 }), {
  maxProperties: 20,
  description:
    "The carrier's credentials: Twilio accountSid, authToken; Telnyx apiKey, publicKey, connectionId; Vonage applicationId, privateKey, signatureSecret; Plivo authId, authToken. Secrets are write-only and encrypted at rest.",
});

const ApiBaseUrl = Type.String({
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2048,
  description: "A regional or test endpoint of the carrier's REST API (default: the carrier's public one)",
});

const fields = {
  number: NumberField,
  provider: Type.Union(
    [...CARRIER_NAMES, 'sip' as const].map((p) => Type.Literal(p)),
    { description: 'The carrier, or `sip`: calls come to the built-in SIP endpoint (no credentials)' },
  ),
  name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  assistantId: Type.Optional(
    Type.Union([Type.String({ maxLength: 100 }), Type.Null()], {
      description: "The assistant that answers; none: the server's assistant-request decides per call",
    }),
  ),
  server: Type.Optional(
    Type.Union([ServerSchema, Type.Null()], {
      description:
        "Where this number's assistant-request goes (else the team's server). Replaced as a whole.",
    }),
  ),
  fallbackDestination: Type.Optional(
    Type.Union([DestinationSchema, Type.Null()], {
      description: 'Where calls go when no assistant can be had (else a spoken apology and hang-up)',
    }),
  ),
  credentials: CredentialsInput,
  apiBaseUrl: Type.Optional(Type.Union([ApiBaseUrl, Type.Null()])),
};

export const PhoneNumberCreateSchema = Type.Object(fields, { additionalProperties: false });
export type PhoneNumberCreate = Static<typeof PhoneNumberCreateSchema>;

export const PhoneNumberPatchSchema = Type.Object(
  {
    ...fields,
    number: Type.Optional(fields.number),
    provider: Type.Optional(fields.provider),
    credentials: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 8192 }), {
        maxProperties: 20,
        description:
          'Fields given replace the stored ones, the others are kept (all of them are needed when the provider changes)',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PhoneNumberPatch = Static<typeof PhoneNumberPatchSchema>;

export const CarrierSetupSchema = Type.Object({
  provider: Type.String(),
  displayName: Type.String(),
  inboundUrl: Type.String({ description: 'The voice / answer webhook of this number' }),
  statusUrl: Type.String({ description: 'The status / event callback of this number' }),
  steps: Type.Array(
    Type.Object({
      field: Type.String({ description: "Where in the carrier's console" }),
      url: Type.Optional(Type.String()),
      method: Type.Optional(Type.Union([Type.Literal('GET'), Type.Literal('POST')])),
      note: Type.Optional(Type.String()),
    }),
  ),
});

export const PhoneNumberSchema = Type.Object({
  id: Type.String(),
  number: Type.String(),
  provider: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  assistantId: Type.Union([Type.String(), Type.Null()]),
  server: Type.Union([
    Type.Object({
      url: Type.String(),
      timeoutSeconds: Type.Optional(Type.Number()),
      headers: Type.Optional(
        Type.Record(Type.String(), Type.String(), { description: 'Values are shown as "[redacted]"' }),
      ),
      secretSet: Type.Boolean({ description: 'A signing secret is stored (write-only)' }),
    }),
    Type.Null(),
  ]),
  fallbackDestination: Type.Union([DestinationSchema, Type.Null()]),
  credentials: Type.Record(Type.String(), Type.String(), {
    description: 'Non-secret fields as stored; secret fields as a hint of their last four characters',
  }),
  apiBaseUrl: Type.Union([Type.String(), Type.Null()]),
  carrierSetup: CarrierSetupSchema,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type PhoneNumber = Static<typeof PhoneNumberSchema>;
