/**
 * What the phone entry point needs from the phone-number store (`phone-numbers/`), as an
 * interface, so `transports/` stays under the product's nouns (test/structure/layers.ts): a
 * number by id (webhooks carry it in the path, with no API key: the carrier's signature is the
 * auth), its carrier account (credentials decrypted), and which number and carrier id a call has
 * (call control names the carrier's id; the media WebSocket's path names only the call). The
 * carrier's id is stored by admission (`CallAdmissionPort.setCarrierCallId`, `findByCarrierId`).
 */
import type { AdmitRequest } from '../ports.js';
import type { TransferDestination } from '../transport.js';
import type { CarrierAccount, CarrierName } from './carrier.js';

export interface PhoneNumberRecord {
  id: string;
  teamId: string;
  /** E.164. */
  number: string;
  /** The carrier, or `sip`: the built-in SIP endpoint (`transports/sip/`) answers the number. */
  provider: CarrierName | 'sip';
  name?: string;
  assistantId?: string;
  /** Where this number's `assistant-request` goes (else the team's server). */
  server?: AdmitRequest['server'];
  fallbackDestination?: TransferDestination;
  /** The number's own carrier API base (a regional or test endpoint). */
  apiBaseUrl?: string;
}

/** A phone call's number and the carrier's id of the call (once known). */
export interface PhoneCallLeg {
  callId: string;
  teamId: string;
  phoneNumberId: string;
  carrierCallId?: string;
  /** From the call's assistant: its `maxDurationSeconds`, and whether it asks the carrier's AMD. */
  maxDurationSeconds?: number;
  machineDetection?: boolean;
}

export interface PhoneDirectory {
  /** A number of any team (the webhook routes have no API key), or undefined. */
  number(id: string): Promise<PhoneNumberRecord | undefined>;
  /** A number of this team, or undefined. */
  teamNumber(teamId: string, id: string): Promise<PhoneNumberRecord | undefined>;
  /** The number's credentials, decrypted; throws when they do not decrypt (server key changed). */
  account(number: PhoneNumberRecord, defaultApiBaseUrl: string): Promise<CarrierAccount>;
  /** The `sip` number (E.164) an INVITE's Request-URI names, of any team; undefined when none. */
  sipNumber?(number: string): Promise<PhoneNumberRecord | undefined>;
  /** The number and carrier id of a phone call; undefined for another call. */
  leg(callId: string): Promise<PhoneCallLeg | undefined>;
}
