/**
 * Which assistant runs a call, whatever carries it: a stored one (`assistantId`), an inline one
 * (`assistant`), either with `assistantOverrides`, or the answer of the user's server to
 * `assistant-request` (CONTRACT.md): `{}` takes the team's default assistant (or the platform's
 * defaults), `{"assistant"}` an inline one, `{"assistantId", "assistantOverrides"}` a stored one,
 * `{"error"}` is spoken to the caller and the call ends; no usable answer falls back to the
 * team's default assistant, or the call ends with a spoken apology.
 *
 * Asking the server is the caller's part (calls/call-admission.ts, through the webhook sink): this
 * module only reads assistants and interprets the reply, so it imports nothing above it.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  type AssistantPatch,
  AssistantPatchSchema,
  type AssistantSpec,
} from '../contract/assistant-schema.js';
import type { Db } from '../db/database.js';
import type { ResolvedAssistant } from '../engine/call-session.js';
import { validateDialogFor } from '../llm/scripted/dialog.js';
import { ApiError } from '../shared/api-error.js';
import { mergeDeep, withDefaults } from './assistant-defaults.js';
import { findAssistant, specOf } from './assistant-store.js';

/** The assistant named when the call was created or admitted (all empty: ask the user's server). */
export interface AssistantChoice {
  assistantId?: string;
  assistant?: Parameters<typeof withDefaults>[0];
  assistantOverrides?: Record<string, unknown>;
}

/** The user's server's answer to `assistant-request` (webhooks/http/parse-reply.ts gives it). */
export type AssistantReply =
  | { kind: 'defaults'; metadata?: Record<string, unknown> }
  | { kind: 'assistant'; assistant: Record<string, unknown>; metadata?: Record<string, unknown> }
  | {
      kind: 'assistantId';
      assistantId: string;
      assistantOverrides?: Record<string, unknown>;
      metadata?: Record<string, unknown>;
    }
  | { kind: 'error'; error: string; metadata?: Record<string, unknown> }
  | { kind: 'unusable'; reason: string };

/** An assistant for the call, or none: then `say` is spoken (or the caller forwarded) and the call ends. */
export type Resolution =
  | { kind: 'assistant'; assistant: ResolvedAssistant }
  | { kind: 'none'; reason: string; say: string };

/** Spoken when no assistant can be had and the user's server said nothing to say. */
export const APOLOGY = 'Sorry, this call cannot be taken right now. Please try again later. Goodbye.';

/** The assistant that stands in while there is none (the assistant-request event, a refused call). */
export const placeholderAssistant = (): ResolvedAssistant => ({
  _id: '',
  ...withDefaults({ name: 'assistant-request' }),
});

export class AssistantResolver {
  constructor(private readonly db: Db) {}

  /** A stored assistant of the team, as a call runs it; undefined when there is none. */
  async load(teamId: string, id: string): Promise<ResolvedAssistant | undefined> {
    const row = await findAssistant(this.db, teamId, id);
    if (!row) return undefined;
    return {
      _id: row.id,
      ...specOf(row),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }

  /** `assistantId` or `assistant`, with the overrides. 404 on an unknown id, 400 on bad overrides. */
  async resolve(teamId: string, choice: AssistantChoice): Promise<ResolvedAssistant> {
    let resolved: ResolvedAssistant;
    if (choice.assistantId) {
      const found = await this.load(teamId, choice.assistantId);
      if (!found) throw new ApiError(404, 'not_found', 'assistant not found', 'assistantId');
      resolved = found;
    } else {
      resolved = { _id: '', ...withDefaults(choice.assistant ?? { name: 'Assistant' }) };
    }
    return applyOverrides(resolved, choice.assistantOverrides ?? {});
  }

  /** The team's default assistant with the call's overrides, when the team has one. */
  async byDefault(
    teamId: string,
    defaultAssistantId: string | undefined,
    overrides: Record<string, unknown>,
  ): Promise<ResolvedAssistant | undefined> {
    const found = defaultAssistantId ? await this.load(teamId, defaultAssistantId) : undefined;
    return found ? applyOverrides(found, overrides) : undefined;
  }

  /** What the user's server's reply to `assistant-request` means for the call. */
  async interpret(
    teamId: string,
    reply: AssistantReply,
    choice: AssistantChoice,
    defaultAssistantId: string | undefined,
  ): Promise<Resolution> {
    const overrides = choice.assistantOverrides ?? {};
    const fallback = async (why: string): Promise<Resolution> => {
      try {
        const byDefault = await this.byDefault(teamId, defaultAssistantId, overrides);
        if (byDefault) return { kind: 'assistant', assistant: byDefault };
      } catch (error) {
        return { kind: 'none', reason: `${why}; ${(error as Error).message}`, say: APOLOGY };
      }
      return { kind: 'none', reason: why, say: APOLOGY };
    };
    switch (reply.kind) {
      case 'defaults': {
        const assistant = await this.byDefault(teamId, defaultAssistantId, overrides);
        return {
          kind: 'assistant',
          assistant: assistant ?? (await applyOverrides(placeholderAssistant(), overrides)),
        };
      }
      case 'assistant': {
        if (!checkPatch(reply.assistant))
          return fallback(`the returned assistant is invalid: ${ajv.errorsText(checkPatch.errors)}`);
        const inline = {
          _id: '',
          ...withDefaults({ name: 'Assistant', ...(reply.assistant as AssistantPatch) }),
        };
        return { kind: 'assistant', assistant: await applyOverrides(inline, overrides) };
      }
      case 'assistantId': {
        const found = await this.load(teamId, reply.assistantId);
        if (!found) return fallback(`assistant ${reply.assistantId} not found`);
        try {
          const merged = { ...(reply.assistantOverrides ?? {}), ...overrides };
          return { kind: 'assistant', assistant: await applyOverrides(found, merged) };
        } catch (error) {
          return fallback(`invalid assistantOverrides: ${(error as Error).message}`);
        }
      }
      case 'error':
        return { kind: 'none', reason: reply.error, say: reply.error };
      case 'unusable':
        return fallback(reply.reason);
    }
  }
}

/**
 * The overrides' assistant fields merged into `base` (others, e.g. variableValues, stay only on
 * the call), and the scripted dialog checked. 400 naming the field on an invalid one.
 */
export async function applyOverrides(
  base: ResolvedAssistant,
  rawOverrides: Record<string, unknown>,
): Promise<ResolvedAssistant> {
  let resolved = base;
  const overrides = pickAssistantFields(rawOverrides);
  if (Object.keys(overrides).length > 0) {
    if (!checkPatch(overrides)) {
      const first = checkPatch.errors?.[0];
      const path = `assistantOverrides${(first?.instancePath ?? '').replace(/\//g, '.')}`;
      throw new ApiError(400, 'invalid_request', `${path} ${first?.message ?? 'is invalid'}`, path);
    }
    resolved = mergeDeep(resolved, overrides);
  }
  const dialogError = validateDialogFor(resolved as AssistantSpec);
  if (dialogError)
    throw new ApiError(400, 'invalid_request', `dialog: ${dialogError.message}`, dialogError.field);
  return resolved;
}

// biome-ignore lint/suspicious/noExplicitAny: ajv's CJS default export under NodeNext
const AjvClass = ((Ajv as any).default ?? Ajv) as typeof Ajv.default;
const ajv = new AjvClass({ strict: false });
// biome-ignore lint/suspicious/noExplicitAny: same
((addFormats as any).default ?? addFormats)(ajv);
const checkPatch = ajv.compile(AssistantPatchSchema);

const ASSISTANT_FIELD_NAMES = new Set(Object.keys(AssistantPatchSchema.properties));

function pickAssistantFields(overrides: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(overrides).filter(([key]) => ASSISTANT_FIELD_NAMES.has(key)));
}
