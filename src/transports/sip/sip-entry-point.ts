/**
 * The built-in SIP endpoint as an entry point: off unless `PARLEY_SIP_PORT` is set; then a UDP
 * SIP socket on `HOST:PARLEY_SIP_PORT`, RTP on `PARLEY_RTP_PORTS`, and `PARLEY_SIP_PUBLIC_IP`
 * (else the machine's first non-loopback IPv4 address) advertised in SDP and Contact. Calls
 * reach the phone numbers with provider `sip` (`PhoneDirectory.sipNumber`). Closed with the
 * server: live calls get their BYE, then the socket closes.
 */
import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { EntryPoint, EntryPointDeps, MountedEntryPoint } from '../ports.js';
import { RtpPortRange } from './rtp.js';
import { SipCalls } from './sip-calls.js';
import { SipEndpoint } from './sip-endpoint.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;

/** A Request-URI user part as an E.164 number (`+14155550100`, `14155550100`), or undefined. */
export function numberOfUser(user: string): string | undefined {
  const compact = user.replace(/[-.() ]/g, '');
  const e164 = compact.startsWith('+') ? compact : `+${compact}`;
  return E164.test(e164) ? e164 : undefined;
}

function firstPublicIpv4(): string {
  for (const addresses of Object.values(networkInterfaces()))
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export interface SipEndpointHandle {
  endpoint: SipEndpoint;
  calls: SipCalls;
  rtpPorts: RtpPortRange;
  close(): Promise<void>;
}

/** Starts the SIP endpoint with explicit settings (the entry point and tests). */
export async function startSipEndpoint(
  deps: EntryPointDeps,
  settings: {
    host: string;
    port: number;
    publicAddress: string;
    rtpPorts: string;
    /** SIP Timers B, F, H, J (default 32 s). */
    transactionTimeoutMs?: number;
  },
): Promise<SipEndpointHandle> {
  const [min, max] = settings.rtpPorts.split('-').map(Number);
  const rtpPorts = new RtpPortRange(min ?? 0, max ?? 0);
  const endpoint = new SipEndpoint({
    host: settings.host,
    port: settings.port,
    log: deps.log,
    ...(settings.transactionTimeoutMs ? { transactionTimeoutMs: settings.transactionTimeoutMs } : {}),
  });
  const directory = deps.phoneNumbers;
  const calls = new SipCalls({
    endpoint,
    rtpPorts,
    rtpHost: settings.host,
    publicAddress: settings.publicAddress,
    numberFor: async (user) => {
      const number = numberOfUser(user);
      return number && directory?.sipNumber ? directory.sipNumber(number) : undefined;
    },
    admission: deps.admission,
    phoneStatus: deps.phoneStatus,
    log: deps.log,
  });
  await endpoint.listen(calls);
  return {
    endpoint,
    calls,
    rtpPorts,
    close: async () => {
      await calls.close();
      await endpoint.close();
    },
  };
}

async function register(app: FastifyInstance, deps: EntryPointDeps): Promise<MountedEntryPoint | undefined> {
  const config = deps.config;
  if (config?.sipPort === undefined) return undefined;
  const host = config.host === '::' ? '0.0.0.0' : config.host;
  const handle = await startSipEndpoint(deps, {
    host,
    port: config.sipPort,
    publicAddress: config.sipPublicIp ?? (host === '0.0.0.0' ? firstPublicIpv4() : host),
    rtpPorts: config.rtpPorts,
  });
  app.decorate('sipEndpoint', handle);
  app.addHook('onClose', async () => handle.close());
  return undefined;
}

export const sipEntryPoint: EntryPoint = { name: 'sip', register };
