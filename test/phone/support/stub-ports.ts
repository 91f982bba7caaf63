// In-memory stand-ins for the ports the phone entry point uses (admission, status, the number
// directory), recording what they were asked, so the entry point is tested on its own.
import { randomUUID } from 'node:crypto';
import type { Call } from '../../../src/contract/call-schema.js';
import type { CarrierAccount } from '../../../src/transports/phone/carrier.js';
import type {
  PhoneCallLeg,
  PhoneDirectory,
  PhoneNumberRecord,
} from '../../../src/transports/phone/phone-ports.js';
import type {
  Admission,
  AdmitRequest,
  CallAdmissionPort,
  Channel,
  MediaAcceptance,
  PhoneStatusPort,
} from '../../../src/transports/ports.js';
import type { Transport } from '../../../src/transports/transport.js';

interface StubCallRow {
  call: Call;
  request: AdmitRequest;
  token: string;
  used: boolean;
  carrierCallId?: string;
  transport?: Transport;
  released?: string;
  ended?: string;
}

export class StubAdmission implements CallAdmissionPort {
  readonly calls = new Map<string, StubCallRow>();
  refuseWith: { say: string } | undefined;
  admitError: Error | undefined;

  async admit(request: AdmitRequest): Promise<Admission> {
    if (this.admitError) throw this.admitError;
    const call = { id: `PC-${randomUUID()}`, direction: request.direction } as Call;
    const row: StubCallRow = {
      call,
      request,
      token: randomUUID(),
      used: false,
      ...(request.carrierCallId ? { carrierCallId: request.carrierCallId } : {}),
    };
    this.calls.set(call.id, row);
    if (this.refuseWith)
      return {
        kind: 'refused',
        call,
        say: this.refuseWith.say,
        ...(request.phoneNumber?.fallbackDestination
          ? { forwardTo: request.phoneNumber.fallbackDestination }
          : {}),
      };
    return { kind: 'admitted', call, mediaToken: row.token, mediaExpiresAt: Date.now() + 60_000 };
  }

  async acceptMedia(callId: string, token: string | undefined): Promise<MediaAcceptance> {
    const row = this.calls.get(callId);
    if (!row) return { ok: false, code: 'not_found', reason: 'no such call' };
    if (row.used || token !== row.token)
      return { ok: false, code: 'bad_token', reason: 'invalid or used media token' };
    row.used = true;
    return {
      ok: true,
      call: row.call,
      attach: (transport) => {
        row.transport = transport;
      },
      release: async (reason) => {
        row.released = reason;
      },
    };
  }

  async end(_teamId: string, callId: string, reason: string): Promise<void> {
    const row = this.calls.get(callId);
    if (row) row.ended = reason;
  }

  async setCarrierCallId(callId: string, carrierCallId: string): Promise<void> {
    const row = this.calls.get(callId);
    if (row) row.carrierCallId = carrierCallId;
  }

  async findByCarrierId(channel: Channel, carrierCallId: string) {
    for (const row of this.calls.values())
      if (row.carrierCallId === carrierCallId && row.request.channel === channel)
        return {
          call: row.call,
          ...(row.request.phoneNumber ? { phoneNumberId: row.request.phoneNumber.id } : {}),
        };
    return undefined;
  }
}

export class StubStatus implements PhoneStatusPort {
  readonly reports: { callId: string; status: string; detail: string; answeredBy?: string }[] = [];
  async report(callId: string, status: { status: string; detail: string; answeredBy?: string }) {
    this.reports.push({ callId, ...status });
  }
}

export class StubDirectory implements PhoneDirectory {
  readonly numbers = new Map<string, PhoneNumberRecord>();
  readonly credentials = new Map<string, Record<string, string>>();

  constructor(private readonly admission: StubAdmission) {}

  add(record: PhoneNumberRecord, credentials: Record<string, string>): void {
    this.numbers.set(record.id, record);
    this.credentials.set(record.id, credentials);
  }
  async number(id: string) {
    return this.numbers.get(id);
  }
  async teamNumber(teamId: string, id: string) {
    const n = this.numbers.get(id);
    return n?.teamId === teamId ? n : undefined;
  }
  async account(number: PhoneNumberRecord, defaultApiBaseUrl: string): Promise<CarrierAccount> {
    return {
      credentials: this.credentials.get(number.id) ?? {},
      apiBaseUrl: number.apiBaseUrl ?? defaultApiBaseUrl,
    };
  }
  async leg(callId: string): Promise<PhoneCallLeg | undefined> {
    const row = this.admission.calls.get(callId);
    const phoneNumberId = row?.request.phoneNumber?.id;
    if (!row || !phoneNumberId) return undefined;
    return {
      callId,
      teamId: row.request.teamId,
      phoneNumberId,
      ...(row.carrierCallId ? { carrierCallId: row.carrierCallId } : {}),
      maxDurationSeconds: 300,
      machineDetection: true,
    };
  }
}
