/**
 * Outbound phone calls (`POST /v1/calls` with a `phoneNumberId`): the call is admitted (queued,
 * its terminal events guaranteed from here on), then the number's carrier places it through its
 * REST API with the call's status and media URLs. Status callbacks then drive it (ringing → in
 * progress → media, or busy / no-answer / failed with one terminal status-update and one report);
 * a carrier that refuses to place it ends it `failed` at once.
 */
import { ApiError } from '../../shared/api-error.js';
import type { CallAdmissionPort, OutboundCallRequest, OutboundCalls, PhoneStatusPort } from '../ports.js';
import type { CarrierRegistry } from './carriers.js';
import type { PhoneDirectory } from './phone-ports.js';
import { callUrls, type PublicUrl } from './phone-urls.js';

/** How long the callee's phone rings before `no-answer`. */
export const RING_TIMEOUT_SECONDS = 60;
/** The carrier's own cap when the assistant names none (its `maxDurationSeconds` default). */
const DEFAULT_TIME_LIMIT_SECONDS = 600;
/** Placing a call is one REST request. */
const PLACE_TIMEOUT_MS = 15_000;
const E164 = /^\+[1-9][0-9]{1,14}$/;

export class PhoneOutbound implements OutboundCalls {
  constructor(
    private readonly deps: {
      admission: CallAdmissionPort;
      phoneStatus: PhoneStatusPort;
      numbers: PhoneDirectory;
      carriers: CarrierRegistry;
      publicUrl: PublicUrl;
      log: { warn(obj: object, msg: string): void };
    },
  ) {}

  async place(teamId: string, request: OutboundCallRequest, signal?: AbortSignal) {
    const { admission, numbers } = this.deps;
    const number = await numbers.teamNumber(teamId, request.phoneNumberId);
    if (!number) throw new ApiError(404, 'not_found', 'phone number not found', 'phoneNumberId');
    const carrier = this.deps.carriers.get(number.provider);
    if (!carrier)
      throw new ApiError(
        400,
        'invalid_request',
        `phoneNumberId: this server does not speak ${number.provider}`,
        'phoneNumberId',
      );
    if (!E164.test(request.customer.number))
      throw new ApiError(
        400,
        'invalid_request',
        'customer.number must be E.164 (e.g. +14155550100)',
        'customer.number',
      );
    const account = await numbers.account(number, carrier.defaultApiBaseUrl);
    const admitted = await admission.admit(
      {
        teamId,
        channel: carrier.name,
        direction: 'outbound',
        customer: request.customer,
        phoneNumber: {
          id: number.id,
          number: number.number,
          ...(number.assistantId ? { assistantId: number.assistantId } : {}),
          ...(number.fallbackDestination ? { fallbackDestination: number.fallbackDestination } : {}),
        },
        assistant: {
          ...(request.assistantId ? { assistantId: request.assistantId } : {}),
          ...(request.assistant ? { assistant: request.assistant } : {}),
          ...(request.assistantOverrides ? { assistantOverrides: request.assistantOverrides } : {}),
        },
        ...(request.metadata ? { metadata: request.metadata } : {}),
        ...(number.server ? { server: number.server } : {}),
      },
      signal,
    );
    const { call } = admitted;
    // No assistant could be had: the call is stored and ended with its terminal events.
    if (admitted.kind === 'refused') return { call };
    const leg = await numbers.leg(call.id);
    try {
      const placed = await carrier.placeCall(
        {
          callId: call.id,
          from: number.number,
          to: request.customer.number,
          urls: callUrls(this.deps.publicUrl, carrier.name, number.id, call.id, admitted.mediaToken),
          ringTimeoutSeconds: RING_TIMEOUT_SECONDS,
          timeLimitSeconds: leg?.maxDurationSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
          machineDetection: leg?.machineDetection ?? false,
        },
        account,
        signal
          ? AbortSignal.any([signal, AbortSignal.timeout(PLACE_TIMEOUT_MS)])
          : AbortSignal.timeout(PLACE_TIMEOUT_MS),
      );
      await admission.setCarrierCallId(call.id, placed.carrierCallId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log.warn(
        { callId: call.id, carrier: carrier.name, err: error },
        'the carrier did not place the call',
      );
      await this.deps.phoneStatus.report(call.id, {
        status: 'failed',
        detail: `${carrier.displayName} did not place the call: ${message}`,
      });
      throw new ApiError(
        502,
        'carrier_error',
        `${carrier.displayName} did not place call ${call.id}: ${message.slice(0, 300)}`,
      );
    }
    return { call };
  }
}
