import type { Selectable } from 'kysely';
import type { Assistant, AssistantSpec } from '../contract/assistant-schema.js';
import type { Db } from '../db/database.js';
import type { AssistantsTable } from '../db/schema.js';
import { newObjectId } from '../shared/ids.js';
import { afterCursor, type Cursor } from '../shared/pagination.js';
import { redactSpec } from './assistant-defaults.js';

/** Every query takes the team id: no assistant is reachable across teams. */
export type AssistantRow = Selectable<AssistantsTable>;

export function specOf(row: AssistantRow): AssistantSpec {
  return row.spec as unknown as AssistantSpec;
}

/** The public Assistant object (secrets redacted). */
export function toAssistant(row: AssistantRow): Assistant {
  return {
    _id: row.id,
    ...redactSpec(specOf(row)),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function insertAssistant(db: Db, teamId: string, spec: AssistantSpec): Promise<AssistantRow> {
  return db
    .insertInto('assistants')
    .values({ id: newObjectId(), team_id: teamId, name: spec.name, spec: JSON.stringify(spec) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAssistant(db: Db, teamId: string, id: string): Promise<AssistantRow | undefined> {
  return db
    .selectFrom('assistants')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listAssistants(
  db: Db,
  teamId: string,
  limit: number,
  cursor?: Cursor,
): Promise<AssistantRow[]> {
  let query = db.selectFrom('assistants').selectAll().where('team_id', '=', teamId);
  if (cursor) {
    query = query.where(afterCursor(cursor));
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function updateAssistant(
  db: Db,
  teamId: string,
  id: string,
  spec: AssistantSpec,
): Promise<AssistantRow | undefined> {
  return db
    .updateTable('assistants')
    .set({ name: spec.name, spec: JSON.stringify(spec), updated_at: new Date() })
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteAssistant(db: Db, teamId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('assistants')
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
