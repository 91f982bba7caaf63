/**
 * The data operations of the `parley` command. Each runs either in the CLI's own process (no
 * server holds the data directory, or PostgreSQL) or in the server that holds it, asked over
 * the admin channel: the same validated input, the same code, the same result.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type Db, migrateToLatest } from '../db/database.js';
import { createApiKey } from '../tenancy/api-keys.js';
import { MAX_CONCURRENT_CALLS_LIMIT, setTeamCallLimit } from '../tenancy/team-settings.js';

export interface OperationContext {
  db: Db;
}

interface Operation<S extends TObject, R> {
  input: S;
  run(ctx: OperationContext, input: Static<S>): Promise<R>;
}

const op = <S extends TObject, R>(input: S, run: Operation<S, R>['run']): Operation<S, R> => ({ input, run });

export const operations = {
  'keys.create': op(
    Type.Object(
      {
        team: Type.String({ minLength: 1, maxLength: 200 }),
        name: Type.Optional(Type.String({ maxLength: 200 })),
      },
      { additionalProperties: false },
    ),
    async ({ db }, input) => {
      const { team, key } = await createApiKey(db, input.team, input.name ?? '');
      return { key, team: { id: team.id, name: team.name } };
    },
  ),
  'teams.limit': op(
    Type.Object(
      {
        team: Type.String({ minLength: 1, maxLength: 200 }),
        maxConcurrentCalls: Type.Union([
          Type.Integer({ minimum: 1, maximum: MAX_CONCURRENT_CALLS_LIMIT }),
          Type.Null(),
        ]),
      },
      { additionalProperties: false },
    ),
    async ({ db }, input) => {
      const team = await setTeamCallLimit(db, input.team, input.maxConcurrentCalls);
      if (!team) throw new OperationInputError(`no team named "${input.team}"`, 'team');
      return team;
    },
  ),
  migrate: op(Type.Object({}, { additionalProperties: false }), async ({ db }) => ({
    applied: await migrateToLatest(db),
  })),
};

export type OperationName = keyof typeof operations;
export type OperationInput<N extends OperationName> = Static<(typeof operations)[N]['input']>;
export type OperationResult<N extends OperationName> = Awaited<ReturnType<(typeof operations)[N]['run']>>;

export class OperationInputError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(operations, name);
}

/** Checks an operation's input; throws {@link OperationInputError} naming the first bad field. */
export function validateOperationInput(name: OperationName, input: unknown): void {
  const first = Value.Errors(operations[name].input, input).First();
  if (first) {
    const field = first.path.replace(/^\//, '').replaceAll('/', '.');
    throw new OperationInputError(`${field || 'input'}: ${first.message}`, field);
  }
}

export async function runOperation<N extends OperationName>(
  ctx: OperationContext,
  name: N,
  input: OperationInput<N>,
): Promise<OperationResult<N>> {
  validateOperationInput(name, input);
  const operation = operations[name] as unknown as Operation<TObject, OperationResult<N>>;
  return operation.run(ctx, input);
}
