import { type Kysely, sql } from 'kysely';

/** A team's keys for cloud providers, encrypted with the server key (AES-256-GCM). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provider_credentials')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('api_key_encrypted', 'text')
    .addColumn('api_key_hint', 'text')
    .addColumn('base_url', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('provider_credentials_pk', ['team_id', 'provider'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provider_credentials').execute();
}
