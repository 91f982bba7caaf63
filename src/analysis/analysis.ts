/**
 * Post-call analysis per `assistantAnalysis`: a summary, a success evaluation (rubric) and
 * structured data (validated against the assistant's JSON Schema with Ajv, retried once when
 * invalid, then reported as failed). The parts run in parallel, each with its own provider,
 * model, prompt and timeout (default: the assistant's provider and model). The `scripted`
 * provider analyses offline (see offline.ts); any other goes through an `LlmProvider`.
 * Nothing here throws: a part that fails is named in `analysis.error`, and a summary that
 * could not be made by the model falls back to the template.
 */
import type { Static } from '@sinclair/typebox';
import type { AssistantSpec } from '../contract/assistant-schema.js';
import type { Call, CallAnalysisSchema } from '../contract/call-schema.js';
import type { ConversationMessage } from '../contract/conversation-schema.js';
import type { ChatMessage, LlmProvider } from '../llm/llm.js';
import { type Clock, systemClock } from '../shared/clock.js';
import {
  chatOf,
  type DialogOutcome,
  dialogOutcome,
  offlineScore,
  offlineStructuredData,
  templateSummary,
} from './offline.js';
import { fromScore, parseEvaluation, type Rubric, rubricInstruction, type SuccessValue } from './rubrics.js';
import { schemaErrors } from './schema-validator.js';

export type CallAnalysis = Static<typeof CallAnalysisSchema>;

export interface AnalysisContext {
  assistant: AssistantSpec;
  call: Call;
  messages: readonly ConversationMessage[];
  /** The model's history (with tool results); rebuilt from `messages` when absent. */
  chat?: readonly ChatMessage[];
  /** The LLM for a part's provider and model; throws when this deployment has none. */
  llm?: (provider: string, model: string) => LlmProvider;
  clock?: Clock;
}

const DEFAULT_TIMEOUT_MS = { summary: 20_000, successEvaluation: 20_000, structuredData: 30_000 };

const DEFAULT_PROMPTS = {
  summary:
    'You are an expert note-taker. You will be given the transcript of a call between an AI assistant and a caller. Summarize the call in two or three sentences: what the caller wanted and what was agreed or done.',
  successEvaluation:
    'You are an expert call evaluator. You will be given the transcript of a call between an AI assistant and a caller, and the instructions the assistant had. Decide whether the call met its goal.',
  structuredData:
    'You are an expert data extractor. You will be given the transcript of a call between an AI assistant and a caller. Extract the data the schema asks for from what was said.',
};

type Part = { enabled?: boolean; prompt?: string; provider?: string; model?: string; timeoutMs?: number };
type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

function transcript(messages: readonly ConversationMessage[]): string {
  return messages
    .filter((m) => m.text.trim())
    .map((m) => `${m.role === 'user' ? 'Caller' : 'Assistant'}: ${m.text.trim()}`)
    .join('\n');
}

async function complete(llm: LlmProvider, model: string, messages: ChatMessage[], signal: AbortSignal) {
  let text = '';
  for await (const chunk of llm.chat({ model, messages, temperature: 0 }, signal)) {
    if (chunk.type === 'text') text += chunk.text;
  }
  return text.trim();
}

/** Runs `work` with a deadline on `clock`; the signal aborts at the deadline. */
async function withTimeout<T>(
  clock: Clock,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<Outcome<T>> {
  const abort = new AbortController();
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const deadline = new Promise<Outcome<T>>((resolve) => {
    timer = clock.setTimeout(() => {
      abort.abort(new Error('timed out'));
      resolve({ ok: false, error: `timed out after ${ms} ms` });
    }, ms);
  });
  const run = work(abort.signal).then(
    (value): Outcome<T> => ({ ok: true, value }),
    (error: unknown): Outcome<T> => ({
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  try {
    return await Promise.race([run, deadline]);
  } finally {
    timer?.cancel();
  }
}

function firstJsonObject(text: string): unknown {
  const unfenced = text.replace(/^```(?:json)?\s*|\s*```$/g, '').trim();
  try {
    return JSON.parse(unfenced);
  } catch {}
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('the reply holds no JSON object');
  return JSON.parse(text.slice(start, end + 1));
}

export async function analyzeCall(ctx: AnalysisContext): Promise<CallAnalysis> {
  const { assistant } = ctx;
  const config = assistant.assistantAnalysis ?? {};
  const clock = ctx.clock ?? systemClock;
  const chat = chatOf(ctx.messages, ctx.chat);
  let outcome: DialogOutcome | undefined;
  let outcomeDone = false;
  const offline = () => {
    if (!outcomeDone) {
      outcomeDone = true;
      try {
        outcome = dialogOutcome(assistant, chat);
      } catch {
        outcome = undefined;
      }
    }
    return outcome;
  };
  const providerOf = (part: Part) => part.provider ?? assistant.assistantProvider;
  const modelOf = (part: Part) => part.model ?? assistant.assistantModel;
  const llmFor = (part: Part): LlmProvider => {
    if (!ctx.llm) throw new Error(`no model available for provider "${providerOf(part)}"`);
    return ctx.llm(providerOf(part), modelOf(part));
  };
  const text = transcript(ctx.messages);
  const errors: string[] = [];
  const result: CallAnalysis = {};
  const schema = config.structuredData?.schema as Record<string, unknown> | undefined;

  const template = () =>
    templateSummary({
      ...(config.summary?.template ? { template: config.summary.template } : {}),
      assistant,
      call: ctx.call,
      messages: ctx.messages,
      variables: offline()?.variables ?? {},
      ...(offline() ? { allVariables: offline()?.allVariables } : {}),
    });

  const summary = async () => {
    const part = config.summary;
    if (!part?.enabled) return;
    if (providerOf(part) === 'scripted' || ctx.messages.length === 0) {
      result.summary = template();
      return;
    }
    const r = await withTimeout(clock, part.timeoutMs ?? DEFAULT_TIMEOUT_MS.summary, async (signal) => {
      const answer = await complete(
        llmFor(part),
        modelOf(part),
        [
          { role: 'system', content: part.prompt ?? DEFAULT_PROMPTS.summary },
          { role: 'user', content: text },
        ],
        signal,
      );
      if (!answer) throw new Error('the model gave an empty summary');
      return answer;
    });
    if (r.ok) result.summary = r.value;
    else {
      errors.push(`summary: ${r.error} (template summary used)`);
      result.summary = template();
    }
  };

  const successEvaluation = async () => {
    const part = config.successEvaluation;
    if (!part?.enabled) return;
    const rubric: Rubric = part.rubric ?? 'pass-fail';
    if (providerOf(part) === 'scripted' || ctx.messages.length === 0) {
      // Offline, or nothing was said (a call that never connected): no model is asked.
      result.successEvaluation = fromScore(rubric, ctx.messages.length ? offlineScore(offline(), schema) : 0);
      return;
    }
    const r = await withTimeout(
      clock,
      part.timeoutMs ?? DEFAULT_TIMEOUT_MS.successEvaluation,
      async (signal): Promise<SuccessValue> => {
        const system = [
          DEFAULT_PROMPTS.successEvaluation,
          `The assistant's instructions:\n${assistant.assistantSystemPrompt}`,
          part.prompt ? `Success criterion: ${part.prompt}` : undefined,
          rubricInstruction(rubric),
        ]
          .filter(Boolean)
          .join('\n\n');
        const answer = await complete(
          llmFor(part),
          modelOf(part),
          [
            { role: 'system', content: system },
            { role: 'user', content: text },
          ],
          signal,
        );
        const value = parseEvaluation(rubric, answer);
        if (value === undefined)
          throw new Error(`the answer "${answer.slice(0, 100)}" does not fit the ${rubric} rubric`);
        return value;
      },
    );
    if (r.ok) result.successEvaluation = r.value;
    else errors.push(`successEvaluation: ${r.error}`);
  };

  const structuredData = async () => {
    const part = config.structuredData;
    if (!part?.enabled) return;
    const validate = (data: unknown) => (schema ? schemaErrors(schema, data) : undefined);
    const r = await withTimeout(
      clock,
      part.timeoutMs ?? DEFAULT_TIMEOUT_MS.structuredData,
      async (signal): Promise<Record<string, unknown>> => {
        let lastError = '';
        if (providerOf(part) === 'scripted') {
          // Deterministic: a retry would give the same variables, so one check decides.
          const data = offlineStructuredData(offline()?.variables ?? {}, schema);
          const invalid = validate(data);
          if (invalid) throw new Error(`invalid: ${invalid}`);
          return data;
        }
        if (ctx.messages.length === 0) throw new Error('the call has no conversation to extract from');
        const llm = llmFor(part);
        const messages: ChatMessage[] = [
          {
            role: 'system',
            content: `${part.prompt ?? DEFAULT_PROMPTS.structuredData}\n\nReply with one JSON object and nothing else${
              schema ? `, matching this JSON Schema:\n${JSON.stringify(schema)}` : '.'
            }`,
          },
          { role: 'user', content: text },
        ];
        for (let attempt = 1; attempt <= 2; attempt++) {
          const answer = await complete(llm, modelOf(part), messages, signal);
          let data: unknown;
          try {
            data = firstJsonObject(answer);
          } catch (error) {
            lastError = `not JSON (${(error as Error).message})`;
          }
          if (data !== undefined) {
            const invalid =
              typeof data !== 'object' || data === null || Array.isArray(data)
                ? 'data must be an object'
                : validate(data);
            if (!invalid) return data as Record<string, unknown>;
            lastError = invalid;
          }
          messages.push(
            { role: 'assistant', content: answer },
            {
              role: 'user',
              content: `That reply is invalid: ${lastError}. Reply again with only the corrected JSON object.`,
            },
          );
        }
        throw new Error(`invalid after one retry: ${lastError}`);
      },
    );
    if (r.ok) result.structuredData = r.value;
    else errors.push(`structuredData: ${r.error}`);
  };

  await Promise.all([summary(), successEvaluation(), structuredData()]);
  if (errors.length > 0) result.error = errors.join('; ');
  return result;
}
