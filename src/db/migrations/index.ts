import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as webhooks from './0002-webhooks.js';
import * as teamSettings from './0003-team-settings.js';
import * as callOwnership from './0004-call-ownership.js';
import * as providerCredentials from './0005-provider-credentials.js';
import * as callMessages from './0006-call-messages.js';
import * as callEndRequests from './0007-call-end-requests.js';
import * as callJoinTokens from './0008-call-join-tokens.js';
import * as callAdmission from './0009-call-admission.js';
import * as phoneNumbers from './0010-phone-numbers.js';

/** Migrations are compiled in (no directory scanning), so the built package runs anywhere. */
const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-webhooks': webhooks,
  '0003-team-settings': teamSettings,
  '0004-call-ownership': callOwnership,
  '0005-provider-credentials': providerCredentials,
  '0006-call-messages': callMessages,
  '0007-call-end-requests': callEndRequests,
  '0008-call-join-tokens': callJoinTokens,
  '0009-call-admission': callAdmission,
  '0010-phone-numbers': phoneNumbers,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
