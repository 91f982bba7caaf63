import { type Static, Type } from '@sinclair/typebox';

/**
 * Conversation messages and their per-message metrics, exactly as seed 001 names them. All
 * figures are milliseconds, measured from real timestamps; a figure that does not apply is
 * left out (so every field is optional).
 */
const ms = (description: string) => Type.Optional(Type.Number({ minimum: 0, description }));

export const MessageMetricsSchema = Type.Object(
  {
    timeline: Type.Optional(
      Type.Object(
        {
          totalElapsedTimeMs: ms('time since the call started'),
          offsetFromPreviousTurnMs: ms('gap since the previous message'),
        },
        { additionalProperties: false },
      ),
    ),
    audio: Type.Optional(
      Type.Object(
        {
          totalAudioReceivedMs: ms('caller audio received so far'),
          audioDelayPerTurnMs: ms('late arrival of caller audio in this turn'),
          delayedPacketsPerTurnCount: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    stt: Type.Optional(
      Type.Object(
        {
          timestampMs: ms('epoch ms the final transcript was produced'),
          startOffsetMs: ms('utterance start within the call audio'),
          endOffsetMs: ms('utterance end within the call audio'),
          confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          vadMs: ms('speech duration detected by VAD'),
        },
        { additionalProperties: false },
      ),
    ),
    tts: Type.Optional(
      Type.Object(
        {
          audioDurationMs: ms('duration of the generated audio'),
          generationTimeMs: ms('time to generate the audio'),
          queueLatencyMs: ms('wait before synthesis started'),
          isCachePlaying: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    llm: Type.Optional(
      Type.Object(
        {
          responseLatencyMs: ms('end of user turn to first token'),
          queueLatencyMs: ms('wait before the request was sent'),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MessageMetrics = Static<typeof MessageMetricsSchema>;

export const SkippedAssistantMessageSchema = Type.Object(
  { messageId: Type.String(), text: Type.String(), timestamp: Type.Number() },
  { additionalProperties: false },
);

export const ConversationMessageSchema = Type.Object(
  {
    messageId: Type.String({ description: 'welcome-1, user-N, or <userMessageId>-<random>-<epochMs>' }),
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
    text: Type.String(),
    timestamp: Type.Number({ description: 'epoch ms' }),
    metrics: MessageMetricsSchema,
    interrupted: Type.Optional(
      Type.Boolean({ description: 'the caller cut this reply off; text holds what they heard' }),
    ),
    clientSupplied: Type.Optional(
      Type.Boolean({
        description:
          "spoken because the web client asked (`say`, allowed by the assistant's clientSayEnabled): not the assistant's own words, and not in the model's history",
      }),
    ),
    skippedAssistantMessages: Type.Optional(Type.Array(SkippedAssistantMessageSchema)),
  },
  { additionalProperties: false },
);
export type ConversationMessage = Static<typeof ConversationMessageSchema>;
