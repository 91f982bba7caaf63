/**
 * Team-wide settings: the server that answers `assistant-request` (web calls created without
 * an assistant, phone numbers that name none), the assistant used when it does not answer, and
 * the team's limit of concurrent calls (set by the operator: `parley teams limit`; the team
 * reads it but cannot change it).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { mergeDeep, REDACTED } from '../assistants/assistant-defaults.js';
import { HeadersSchema, SecretSchema } from '../contract/assistant-schema.js';
import type { Db } from '../db/database.js';
import { ApiError, ErrorResponseSchema } from '../shared/api-error.js';
import { webhookSecretProblem } from '../shared/webhook-signing.js';

export const TeamServerSchema = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }),
    secret: Type.Optional(SecretSchema('Write-only.')),
    headers: Type.Optional(HeadersSchema),
    timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 5, default: 5 })),
    format: Type.Optional(Type.Union([Type.Literal('interactly'), Type.Literal('hms')])),
  },
  { additionalProperties: false },
);

/** The largest per-team limit of concurrent calls the operator can set. */
export const MAX_CONCURRENT_CALLS_LIMIT = 1_000_000;

export const TeamSettingsSchema = Type.Object(
  {
    server: Type.Optional(TeamServerSchema),
    defaultAssistantId: Type.Optional(
      Type.String({
        maxLength: 100,
        description: 'Used when assistant-request gets no usable answer in time',
      }),
    ),
    maxConcurrentCalls: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_CONCURRENT_CALLS_LIMIT,
        description:
          'The most calls of the team live at once (queued or ongoing), across every server; absent: unlimited. Set by the operator (`parley teams limit`), read-only here. Over it, POST /v1/calls answers 429 and inbound phone calls hear a busy message.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TeamSettings = Static<typeof TeamSettingsSchema>;

/** PATCH merges into the stored settings, so a server's fields may come one at a time. */
const { maxConcurrentCalls: _operatorOnly, ...teamEditable } = TeamSettingsSchema.properties;
const TeamSettingsPatchSchema = Type.Object(
  { ...teamEditable, server: Type.Optional(Type.Partial(TeamServerSchema)) },
  { additionalProperties: false },
);

/**
 * Sets (a number) or removes (null: unlimited) a team's limit of concurrent calls; the
 * operator's command (`parley teams limit`). Returns the team, or undefined when none has that name.
 */
export async function setTeamCallLimit(
  db: Db,
  teamName: string,
  maxConcurrentCalls: number | null,
): Promise<{ id: string; name: string; maxConcurrentCalls: number | null } | undefined> {
  const row = await db
    .selectFrom('teams')
    .select(['id', 'name', 'settings'])
    .where('name', '=', teamName)
    .executeTakeFirst();
  if (!row) return undefined;
  const { maxConcurrentCalls: _old, ...rest } = (row.settings ?? {}) as TeamSettings;
  const next: TeamSettings = maxConcurrentCalls === null ? rest : { ...rest, maxConcurrentCalls };
  await db
    .updateTable('teams')
    .set({ settings: JSON.stringify(next) })
    .where('id', '=', row.id)
    .execute();
  return { id: row.id, name: row.name, maxConcurrentCalls };
}

export async function getTeamSettings(db: Db, teamId: string): Promise<TeamSettings> {
  const row = await db.selectFrom('teams').select('settings').where('id', '=', teamId).executeTakeFirst();
  return (row?.settings ?? {}) as TeamSettings;
}

function redact(settings: TeamSettings): TeamSettings {
  if (!settings.server) return settings;
  const { secret: _secret, headers, ...server } = settings.server;
  return {
    ...settings,
    server: {
      ...server,
      ...(headers ? { headers: Object.fromEntries(Object.keys(headers).map((k) => [k, REDACTED])) } : {}),
    },
  };
}

const TeamSchema = Type.Object({ id: Type.String(), name: Type.String(), settings: TeamSettingsSchema });

export async function teamRoutes(root: FastifyInstance, opts: { db: Db }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts;
  const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema };
  app.get(
    '/team',
    {
      schema: {
        tags: ['team'],
        summary: "The key's team and its settings",
        response: { 200: TeamSchema, ...errors },
      },
    },
    async (request) => ({ ...request.team, settings: redact(await getTeamSettings(db, request.team.id)) }),
  );
  app.patch(
    '/team',
    {
      schema: {
        tags: ['team'],
        summary: 'Update team settings (JSON merge; header values of "[redacted]" keep the stored value)',
        body: TeamSettingsPatchSchema,
        response: { 200: TeamSchema, ...errors },
      },
    },
    async (request) => {
      const current = await getTeamSettings(db, request.team.id);
      const next = mergeDeep(current, request.body) as TeamSettings;
      if (next.server && !next.server.url)
        throw new ApiError(400, 'invalid_request', 'server.url is required', 'server.url');
      for (const [name, value] of Object.entries(next.server?.headers ?? {})) {
        const kept = current.server?.headers?.[name];
        if (value === REDACTED && kept !== undefined && next.server?.headers)
          next.server.headers[name] = kept;
      }
      const problem = next.server?.secret ? webhookSecretProblem(next.server.secret) : null;
      if (problem) throw new ApiError(400, 'invalid_request', `server.secret ${problem}`, 'server.secret');
      await db
        .updateTable('teams')
        .set({ settings: JSON.stringify(next) })
        .where('id', '=', request.team.id)
        .execute();
      return { ...request.team, settings: redact(next) };
    },
  );
}
