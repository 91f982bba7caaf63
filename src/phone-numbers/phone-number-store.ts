/**
 * Phone numbers in the database: every query of the API takes the team id; the webhook routes
 * find a number by id alone (the carrier's signature, checked against the number's own
 * credentials, is their auth). Credentials are sealed as one JSON object with the server key
 * (the SecretBox provider keys use), bound to the team and the number; responses show the
 * non-secret fields and a hint of the secret ones.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { PhoneNumbersTable } from '../db/schema.js';
import { ApiError } from '../shared/api-error.js';
import { newObjectId } from '../shared/ids.js';
import { afterCursor, type Cursor } from '../shared/pagination.js';
import type { SecretBox } from '../tenancy/secret-box.js';
import type { CarrierAccount, CarrierName } from '../transports/phone/carrier.js';
import { CarrierRegistry } from '../transports/phone/carriers.js';
import type { PhoneCallLeg, PhoneDirectory, PhoneNumberRecord } from '../transports/phone/phone-ports.js';
import type { TransferDestination } from '../transports/transport.js';

export type PhoneNumberRow = Selectable<PhoneNumbersTable>;

export interface ServerSetting {
  url: string;
  timeoutSeconds?: number;
  secret?: string;
  headers?: Record<string, string>;
}

/** A number as stored, credentials in the clear (they are sealed on the way in). */
export interface PhoneNumberValues {
  number: string;
  provider: CarrierName | 'sip';
  name: string | null;
  assistantId: string | null;
  server: ServerSetting | null;
  fallbackDestination: TransferDestination | null;
  credentials: Record<string, string>;
  apiBaseUrl: string | null;
}

/** Which credential fields of a carrier are secret (shown as a hint only). */
export type SecretFieldsOf = (provider: CarrierName | 'sip') => ReadonlySet<string>;

/** The secret credential fields of each carrier of `carriers`. */
export function secretFieldsOf(carriers: CarrierRegistry): SecretFieldsOf {
  return (provider) =>
    new Set(
      carriers
        .get(provider)
        ?.credentialFields.filter((f) => f.secret)
        .map((f) => f.name) ?? [],
    );
}

const hint = (secret: string) => `…${secret.slice(-4)}`;

/** `voicemailDetection` as an assistant may give it: `true`, a provider name, or an object; `off`/`false`: none. */
export function wantsMachineDetection(setting: unknown): boolean {
  if (typeof setting === 'boolean') return setting;
  if (typeof setting === 'string') return setting !== 'off';
  if (typeof setting === 'object' && setting !== null) {
    const { enabled, provider } = setting as { enabled?: unknown; provider?: unknown };
    return enabled !== false && provider !== 'off';
  }
  return false;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

export class PhoneNumberStore implements PhoneDirectory {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly secretFields: SecretFieldsOf = secretFieldsOf(new CarrierRegistry()),
  ) {}

  private context(teamId: string, id: string): string {
    return `phone-number:${teamId}:${id}`;
  }

  private columns(teamId: string, id: string, values: PhoneNumberValues) {
    const secret = this.secretFields(values.provider);
    const shown = Object.fromEntries(
      Object.entries(values.credentials).map(([k, v]) => [k, secret.has(k) ? hint(v) : v]),
    );
    return {
      number: values.number,
      provider: values.provider,
      name: values.name,
      assistant_id: values.assistantId,
      server: values.server ? JSON.stringify(values.server) : null,
      fallback_destination: values.fallbackDestination ? JSON.stringify(values.fallbackDestination) : null,
      credentials_sealed: this.box.seal(JSON.stringify(values.credentials), this.context(teamId, id)),
      credentials_shown: JSON.stringify(shown),
      api_base_url: values.apiBaseUrl,
    };
  }

  private conflict(values: PhoneNumberValues): ApiError {
    return new ApiError(409, 'conflict', `the team already has the number ${values.number}`, 'number');
  }

  async insert(teamId: string, values: PhoneNumberValues): Promise<PhoneNumberRow> {
    const id = newObjectId();
    try {
      return await this.db
        .insertInto('phone_numbers')
        .values({ id, team_id: teamId, ...this.columns(teamId, id, values) })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (error) {
      if (isUniqueViolation(error)) throw this.conflict(values);
      throw error;
    }
  }

  async update(teamId: string, id: string, values: PhoneNumberValues): Promise<PhoneNumberRow | undefined> {
    try {
      return await this.db
        .updateTable('phone_numbers')
        .set({ ...this.columns(teamId, id, values), updated_at: new Date() })
        .where('team_id', '=', teamId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    } catch (error) {
      if (isUniqueViolation(error)) throw this.conflict(values);
      throw error;
    }
  }

  find(teamId: string, id: string): Promise<PhoneNumberRow | undefined> {
    return this.db
      .selectFrom('phone_numbers')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  list(teamId: string, limit: number, cursor: Cursor | undefined): Promise<PhoneNumberRow[]> {
    let query = this.db.selectFrom('phone_numbers').selectAll().where('team_id', '=', teamId);
    if (cursor) query = query.where(afterCursor(cursor));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  async remove(teamId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('phone_numbers')
      .where('team_id', '=', teamId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The stored values but the credentials. */
  settingsOf(row: PhoneNumberRow): Omit<PhoneNumberValues, 'credentials'> {
    return {
      number: row.number,
      provider: row.provider as CarrierName | 'sip',
      name: row.name,
      assistantId: row.assistant_id,
      server: (row.server as ServerSetting | null) ?? null,
      fallbackDestination: (row.fallback_destination as TransferDestination | null) ?? null,
      apiBaseUrl: row.api_base_url,
    };
  }

  /** The stored values, credentials decrypted (PATCH merges into them). Throws when they do not open. */
  valuesOf(row: PhoneNumberRow): PhoneNumberValues {
    return { ...this.settingsOf(row), credentials: this.open(row) };
  }

  private open(row: PhoneNumberRow): Record<string, string> {
    const parsed: unknown = JSON.parse(
      this.box.open(row.credentials_sealed, this.context(row.team_id, row.id)),
    );
    if (typeof parsed !== 'object' || parsed === null)
      throw new Error('sealed credentials are not an object');
    return parsed as Record<string, string>;
  }

  // ---- PhoneDirectory (the phone entry point) ----------------------------------------------
  private record(row: PhoneNumberRow): PhoneNumberRecord {
    const server = row.server as ServerSetting | null;
    return {
      id: row.id,
      teamId: row.team_id,
      number: row.number,
      provider: row.provider as CarrierName | 'sip',
      ...(row.name ? { name: row.name } : {}),
      ...(row.assistant_id ? { assistantId: row.assistant_id } : {}),
      ...(server ? { server } : {}),
      ...(row.fallback_destination
        ? { fallbackDestination: row.fallback_destination as unknown as TransferDestination }
        : {}),
      ...(row.api_base_url ? { apiBaseUrl: row.api_base_url } : {}),
    };
  }

  async number(id: string): Promise<PhoneNumberRecord | undefined> {
    const row = await this.db.selectFrom('phone_numbers').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.record(row) : undefined;
  }

  async sipNumber(number: string): Promise<PhoneNumberRecord | undefined> {
    const row = await this.db
      .selectFrom('phone_numbers')
      .selectAll()
      .where('provider', '=', 'sip')
      .where('number', '=', number)
      .orderBy('created_at')
      .executeTakeFirst();
    return row ? this.record(row) : undefined;
  }

  async teamNumber(teamId: string, id: string): Promise<PhoneNumberRecord | undefined> {
    const row = await this.find(teamId, id);
    return row ? this.record(row) : undefined;
  }

  async account(number: PhoneNumberRecord, defaultApiBaseUrl: string): Promise<CarrierAccount> {
    const row = await this.find(number.teamId, number.id);
    if (!row) throw new Error(`phone number ${number.id} is gone`);
    return {
      credentials: this.open(row),
      apiBaseUrl: (row.api_base_url ?? defaultApiBaseUrl).replace(/\/+$/, ''),
    };
  }

  async leg(callId: string): Promise<PhoneCallLeg | undefined> {
    const row = await this.db
      .selectFrom('calls')
      .select(['team_id', 'phone_number_id', 'carrier_call_id', 'assistant_snapshot'])
      .where('id', '=', callId)
      .executeTakeFirst();
    if (!row?.phone_number_id) return undefined;
    const assistant = row.assistant_snapshot ?? {};
    const maxDuration = assistant.maxDurationSeconds;
    return {
      callId,
      teamId: row.team_id,
      phoneNumberId: row.phone_number_id,
      ...(row.carrier_call_id ? { carrierCallId: row.carrier_call_id } : {}),
      ...(typeof maxDuration === 'number' ? { maxDurationSeconds: maxDuration } : {}),
      machineDetection: wantsMachineDetection(assistant.voicemailDetection),
    };
  }
}
