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

export interface SimulatorEntry {
  carrier: CarrierSimulator['carrier'];
  create(): CarrierSimulator;
}

export const carrierSimulators: readonly SimulatorEntry[] = [
  { carrier: 'twilio', create: () => createTwilioSimulator() },
  { carrier: 'telnyx', create: () => createTelnyxSimulator() },
  { carrier: 'vonage', create: () => createVonageSimulator() },
  { carrier: 'plivo', create: () => createPlivoSimulator() },
];
