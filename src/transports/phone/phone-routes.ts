/**
 * The phone entry point (one line in `transports/entry-points.ts`): every carrier of
 * `carriers.ts` gets its webhooks (`phone-webhooks.ts`) and its media WebSocket
 * (`phone-media-route.ts`) under `/telephony/<carrier>/…`, and `POST /v1/calls` with a
 * `phoneNumberId` places outbound calls through it (`outbound.ts`).
 */
import type { FastifyInstance } from 'fastify';
import type { EntryPointDeps, MountedEntryPoint } from '../ports.js';
import { guardedDirectory } from './carrier-fetch.js';
import { CarrierRegistry } from './carriers.js';
import { PhoneOutbound } from './outbound.js';
import { phoneMediaRoute } from './phone-media-route.js';
import type { PhoneDirectory } from './phone-ports.js';
import { phoneWebhookRoutes } from './phone-webhooks.js';

export interface PhoneEntryDeps extends EntryPointDeps {
  /** The phone-number store (`phone-numbers/`). */
  phoneNumbers?: PhoneDirectory;
  /** Tests: their own carriers (default: every carrier of `carriers.ts`). */
  carriers?: CarrierRegistry;
}

/** Carrier REST calls to private addresses need the operator's leave (default: refused). */
const allowPrivateOf = (deps: EntryPointDeps): boolean => deps.allowPrivateNetworks ?? false;

export async function registerPhoneEntryPoint(
  app: FastifyInstance,
  deps: PhoneEntryDeps,
): Promise<MountedEntryPoint> {
  if (!deps.phoneNumbers)
    throw new Error('the phone entry point needs the phone-number store (deps.phoneNumbers)');
  // Every account made from here on carries the guarded fetch for a team-set API base.
  const numbers = guardedDirectory(deps.phoneNumbers, allowPrivateOf(deps));
  const carriers = deps.carriers ?? new CarrierRegistry();
  const full = { ...deps, numbers, carriers };
  // Encapsulated: the raw-body parsers apply to the carrier webhooks only.
  await app.register(async (scope) => phoneWebhookRoutes(scope, full));
  await app.register(async (scope) => phoneMediaRoute(scope, full));
  return {
    outbound: new PhoneOutbound({
      admission: deps.admission,
      phoneStatus: deps.phoneStatus,
      numbers,
      carriers,
      publicUrl: deps.publicUrl,
      log: deps.log,
    }),
  };
}

export const phoneEntryPoint = { name: 'phone', register: registerPhoneEntryPoint } as const;
