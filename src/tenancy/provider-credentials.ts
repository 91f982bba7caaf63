/**
 * Teams' own cloud provider keys, encrypted at rest (`PUT /v1/provider-credentials/:provider`),
 * with the operator's environment behind them. A team's entry wins over the environment: a key
 * alone uses the operator's base URL (if any); a base URL alone gets no operator key (see
 * `credentialLookup` in providers/credential-lookup.ts, which also lists the providers).
 */
import type { Db } from '../db/database.js';
import {
  CREDENTIAL_PROVIDERS,
  type CredentialLookup,
  type CredentialProvider,
  credentialEnvironment,
  credentialLookup,
} from '../providers/credential-lookup.js';
import type { ProviderCredentials } from '../shared/provider-credentials.js';
import type { SecretBox } from './secret-box.js';

export interface StoredCredential {
  provider: CredentialProvider;
  apiKeyHint: string | null;
  baseUrl: string | null;
  updatedAt: string;
}

export class ProviderCredentialStore {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly onUnreadable?: (teamId: string, provider: string, error: unknown) => void,
  ) {}

  private context(teamId: string, provider: string): string {
    return `provider-credential:${teamId}:${provider}`;
  }

  async list(teamId: string): Promise<StoredCredential[]> {
    const rows = await this.db
      .selectFrom('provider_credentials')
      .select(['provider', 'api_key_hint', 'base_url', 'updated_at'])
      .where('team_id', '=', teamId)
      .orderBy('provider')
      .execute();
    return rows.map((r) => ({
      provider: r.provider as CredentialProvider,
      apiKeyHint: r.api_key_hint,
      baseUrl: r.base_url,
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  /** `undefined` keeps a field; `null` clears it. */
  async put(
    teamId: string,
    provider: CredentialProvider,
    values: { apiKey?: string | null; baseUrl?: string | null },
  ): Promise<StoredCredential> {
    const set: { api_key_encrypted?: string | null; api_key_hint?: string | null; base_url?: string | null } =
      {};
    if (values.apiKey !== undefined) {
      set.api_key_encrypted =
        values.apiKey === null ? null : this.box.seal(values.apiKey, this.context(teamId, provider));
      set.api_key_hint = values.apiKey === null ? null : `…${values.apiKey.slice(-4)}`;
    }
    if (values.baseUrl !== undefined) set.base_url = values.baseUrl;
    await this.db
      .insertInto('provider_credentials')
      .values({ team_id: teamId, provider, ...set })
      .onConflict((oc) => oc.columns(['team_id', 'provider']).doUpdateSet({ ...set, updated_at: new Date() }))
      .execute();
    const stored = (await this.list(teamId)).find((c) => c.provider === provider);
    if (!stored) throw new Error('credential vanished after write');
    return stored;
  }

  async remove(teamId: string, provider: CredentialProvider): Promise<boolean> {
    const result = await this.db
      .deleteFrom('provider_credentials')
      .where('team_id', '=', teamId)
      .where('provider', '=', provider)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Providers the operator configured through the environment (a key or a base URL). */
  environmentProviders(): CredentialProvider[] {
    return CREDENTIAL_PROVIDERS.filter((p) => {
      const e = credentialEnvironment[p];
      return e.apiKey.some((name) => this.env[name]) || Boolean(this.env[e.baseUrl]);
    });
  }

  /** Every credential of a team, decrypted, with the environment behind it (one query per call). */
  async lookupFor(teamId: string): Promise<CredentialLookup> {
    const rows = await this.db
      .selectFrom('provider_credentials')
      .select(['provider', 'api_key_encrypted', 'base_url'])
      .where('team_id', '=', teamId)
      .execute();
    const team = new Map<string, ProviderCredentials>();
    for (const row of rows) {
      let apiKey: string | undefined;
      try {
        apiKey = row.api_key_encrypted
          ? this.box.open(row.api_key_encrypted, this.context(teamId, row.provider))
          : undefined;
      } catch (error) {
        // Sealed under another server key (PARLEY_SECRET_KEY changed): the call gets a
        // `missing_credentials` error event for this provider instead of failing to start.
        this.onUnreadable?.(teamId, row.provider, error);
      }
      team.set(row.provider, {
        ...(apiKey ? { apiKey } : {}),
        ...(row.base_url ? { baseUrl: row.base_url } : {}),
      });
    }
    return credentialLookup(team, this.env);
  }
}
