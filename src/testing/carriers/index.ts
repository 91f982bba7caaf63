/**
 * Every carrier simulator, one line each: the conformance suite
 * (test/phone/carrier-conformance.test.ts) runs each of them through the same cases against the
 * real server. A new carrier adds its simulator here.
 */
import { createPlivoSimulator } from './plivo/simulator.js';
import type { CarrierSimulator } from './simulator.js';
import { createTelnyxSimulator } from './telnyx/simulator.js';
import { createTwilioSimulator } from './twilio/simulator.js';
import { createVonageSimulator } from './vonage/simulator.js';

/** What every simulator can be asked to do differently. */
export interface SimulatorSwitches {
  /** The carrier's transfer REST call fails (the destination refused): the call stays as it was. */
  rejectTransfers?: boolean;
}

export interface SimulatorEntry {
  carrier: CarrierSimulator['carrier'];
  create(switches?: SimulatorSwitches): CarrierSimulator;
}

export const carrierSimulators: readonly SimulatorEntry[] = [
  { carrier: 'twilio', create: (o) => createTwilioSimulator({ ...o }) },
  { carrier: 'telnyx', create: (o) => createTelnyxSimulator({ ...o }) },
  { carrier: 'vonage', create: (o) => createVonageSimulator({ ...o }) },
  { carrier: 'plivo', create: (o) => createPlivoSimulator({ ...o }) },
];
