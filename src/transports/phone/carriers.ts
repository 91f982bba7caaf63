/**
 * The phone carriers Parley speaks, one line each (a carrier is its folder beside this file,
 * exporting `<name>Carrier`). `POST /v1/phone-numbers` accepts these providers, and the
 * `/telephony/<carrier>/…` routes serve them.
 */
import type { CarrierName, PhoneCarrier } from './carrier.js';
import { plivoCarrier } from './plivo/carrier.js';
import { telnyxCarrier } from './telnyx/carrier.js';
import { twilioCarrier } from './twilio/carrier.js';
import { vonageCarrier } from './vonage/carrier.js';

export const phoneCarriers: readonly PhoneCarrier[] = [
  twilioCarrier,
  telnyxCarrier,
  vonageCarrier,
  plivoCarrier,
];

/** Carriers by name; tests pass their own list. */
export class CarrierRegistry {
  private readonly byName: ReadonlyMap<string, PhoneCarrier>;

  constructor(carriers: readonly PhoneCarrier[] = phoneCarriers) {
    this.byName = new Map(carriers.map((c) => [c.name, c]));
  }

  get(name: string): PhoneCarrier | undefined {
    return this.byName.get(name);
  }

  names(): CarrierName[] {
    return [...this.byName.keys()] as CarrierName[];
  }
}
