/**
 * Binds a carrier's REST call control (hang up, transfer, DTMF) to one call: its carrier call id
 * (read when first needed: an outbound call's id is stored once the carrier accepted it) and its
 * number's account. A carrier that throws becomes `{ ok: false }`: the call goes on.
 */
import type { ControlResult, TransferDestination } from '../transport.js';
import type { CallControl, CallUrls, CarrierAccount, PhoneCarrier } from './carrier.js';
import type { PhoneDirectory } from './phone-ports.js';

/** A hang-up the carrier does not answer within this is reported failed (the stream still closes). */
export const HANG_UP_TIMEOUT_MS = 10_000;

export function bindCallControl(options: {
  carrier: PhoneCarrier;
  account: CarrierAccount;
  callId: string;
  numbers: Pick<PhoneDirectory, 'leg'>;
  /** Known at admission (inbound calls). */
  carrierCallId?: string;
  /** The call's URLs (Plivo serves a transfer's markup from its answer URL). */
  urls?: CallUrls;
}): CallControl {
  const { carrier, account } = options;
  let carrierCallId = options.carrierCallId;
  const run = async (
    what: string,
    action: (id: string) => Promise<ControlResult>,
  ): Promise<ControlResult> => {
    try {
      carrierCallId ??= (await options.numbers.leg(options.callId))?.carrierCallId;
      if (!carrierCallId)
        return { ok: false, error: `${carrier.displayName} has not named call ${options.callId} yet` };
      return await action(carrierCallId);
    } catch (error) {
      return {
        ok: false,
        error: `${carrier.displayName} ${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  };
  return {
    hangUp: () =>
      run('hang-up', (id) => carrier.hangUp(id, account, AbortSignal.timeout(HANG_UP_TIMEOUT_MS))),
    transfer: (to: TransferDestination, signal: AbortSignal) =>
      run('transfer', (id) => carrier.transfer(id, to, account, signal, options.urls)),
    sendDtmf: (digits: string, signal: AbortSignal) =>
      run('DTMF', (id) => carrier.sendDtmf(id, digits, account, signal)),
  };
}
