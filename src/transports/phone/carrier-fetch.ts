/**
 * A number's carrier REST calls to a team-set `apiBaseUrl` go through the network guard at
 * connect time, as provider connections to a team-set `baseUrl` do (shared/provider-credentials.ts):
 * the address that is connected to is the one vetted, so a host name that resolves to a public
 * address when the number is saved and to a private one later (DNS rebinding) is refused.
 * Private, loopback and link-local addresses are reached only when the operator allows them
 * (`PARLEY_ALLOW_PRIVATE_WEBHOOKS`, development and the loopback carrier simulators of the tests).
 * The carriers' own default API bases are public and used with the global fetch.
 */
import { guardedFetch } from '../../shared/provider-credentials.js';
import type { CarrierAccount } from './carrier.js';
import type { PhoneDirectory, PhoneNumberRecord } from './phone-ports.js';

/** The account with a guarded `fetch` when its base URL is the number's own. */
export function guardAccount(
  account: CarrierAccount,
  number: Pick<PhoneNumberRecord, 'apiBaseUrl'>,
  allowPrivate: boolean,
): CarrierAccount {
  if (!number.apiBaseUrl || account.fetch) return account;
  const fetch = guardedFetch({ allowPrivate });
  return fetch ? { ...account, fetch } : account;
}

/** The directory whose accounts carry the guarded fetch (every place an account is made). */
export function guardedDirectory(numbers: PhoneDirectory, allowPrivate: boolean): PhoneDirectory {
  return {
    number: (id) => numbers.number(id),
    teamNumber: (teamId, id) => numbers.teamNumber(teamId, id),
    leg: (callId) => numbers.leg(callId),
    account: async (number, defaultApiBaseUrl) =>
      guardAccount(await numbers.account(number, defaultApiBaseUrl), number, allowPrivate),
  };
}
