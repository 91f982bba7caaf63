// Carrier REST calls to a number's own `apiBaseUrl` go through the network guard at connect
// time: a loopback or private address (a literal, or a host name resolving to one, as after a
// DNS rebinding) is refused unless the operator allows private networks; the carriers' default
// public bases keep the global fetch. Every carrier, against its simulator's REST API on 127.0.0.1.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carrierSimulators } from '../../src/testing/carriers/index.js';
import type { CarrierSimulator } from '../../src/testing/carriers/simulator.js';
import type { CarrierAccount } from '../../src/transports/phone/carrier.js';
import { guardAccount, guardedDirectory } from '../../src/transports/phone/carrier-fetch.js';
import { CarrierRegistry } from '../../src/transports/phone/carriers.js';
import type { PhoneDirectory, PhoneNumberRecord } from '../../src/transports/phone/phone-ports.js';

const registry = new CarrierRegistry();
/** A call id in each carrier's own format (the call does not exist: only reaching the API counts). */
const callIdFor = (carrier: string) =>
  carrier === 'twilio' ? `CA${randomUUID().replace(/-/g, '')}` : randomUUID();

describe.each(carrierSimulators)('$carrier REST through the network guard', ({ carrier, create }) => {
  let sim: CarrierSimulator;
  beforeAll(async () => {
    sim = create();
    await sim.start();
  }, 30_000);
  afterAll(async () => sim?.close());

  const account = (base: string): CarrierAccount => ({ credentials: sim.credentials, apiBaseUrl: base });
  const phone = () => {
    const found = registry.get(carrier);
    if (!found) throw new Error(`no carrier ${carrier}`);
    return found;
  };
  const number = (base: string): Pick<PhoneNumberRecord, 'apiBaseUrl'> => ({ apiBaseUrl: base });

  it.each([
    ['a loopback literal', (base: string) => base],
    ['a host name resolving to loopback', (base: string) => base.replace('127.0.0.1', 'localhost')],
  ])('%s is refused without the operator allowing private networks', async (_what, baseOf) => {
    const base = baseOf(sim.apiBaseUrl);
    const before = sim.restLog.length;
    const guarded = guardAccount(account(base), number(base), false);
    expect(guarded.fetch).toBeTypeOf('function');
    const result = await phone().hangUp(callIdFor(carrier), guarded, AbortSignal.timeout(5_000));
    expect(result.ok).toBe(false);
    expect(sim.restLog.length, 'no request reached the carrier API').toBe(before);
  });

  it('is reached when the operator allows private networks', async () => {
    const before = sim.restLog.length;
    const guarded = guardAccount(account(sim.apiBaseUrl), number(sim.apiBaseUrl), true);
    await phone().hangUp(callIdFor(carrier), guarded, AbortSignal.timeout(5_000));
    expect(sim.restLog.length).toBeGreaterThan(before);
  });
});

describe('guardedDirectory', () => {
  const record = (apiBaseUrl?: string): PhoneNumberRecord => ({
    id: 'pn_1',
    teamId: 't_1',
    number: '+14155550100',
    provider: 'twilio',
    ...(apiBaseUrl ? { apiBaseUrl } : {}),
  });
  const store: PhoneDirectory = {
    number: async () => record(),
    teamNumber: async () => record(),
    leg: async () => undefined,
    account: async (n, fallback) => ({ credentials: {}, apiBaseUrl: n.apiBaseUrl ?? fallback }),
  };

  it('guards accounts whose base is the number’s own, not the carrier default', async () => {
    const numbers = guardedDirectory(store, false);
    const own = await numbers.account(record('https://api.example.test'), 'https://api.twilio.com');
    const standard = await numbers.account(record(), 'https://api.twilio.com');
    expect(own.fetch).toBeTypeOf('function');
    expect(standard.fetch).toBeUndefined();
    expect(standard.apiBaseUrl).toBe('https://api.twilio.com');
  });
});
