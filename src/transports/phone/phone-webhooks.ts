/**
 * The carrier's HTTP side of a phone call, shared by every carrier: the number's inbound webhook
 * (signature → admission → the carrier's answer or refusal), status callbacks (→ the call's
 * lifecycle), an outbound call's markup, and the end of a media stream. No API key: each request
 * is checked with the carrier's signature against the number's own credentials, over the public
 * URL (configured, never the Host header) and the body exactly as received; a bad one gets a 403
 * and changes nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EntryPointDeps } from '../ports.js';
import type {
  CarrierAccount,
  CarrierHttpRequest,
  CarrierReply,
  PhoneCarrier,
  StatusReport,
} from './carrier.js';
import type { CarrierRegistry } from './carriers.js';
import type { PhoneDirectory, PhoneNumberRecord } from './phone-ports.js';
import { callUrls, publicBase } from './phone-urls.js';

/** `assistant-request` has 5 s (CONTRACT.md); admission gets a little more for its own writes. */
export const ADMIT_BUDGET_MS = 6_000;
/** A carrier's REST answer (Telnyx) or refusal within the carrier's own webhook timeout. */
const CARRIER_REPLY_TIMEOUT_MS = 8_000;
export const APOLOGY = 'Sorry, nobody can take your call right now. Please try again later. Goodbye.';

export interface PhoneWebhookDeps extends EntryPointDeps {
  numbers: PhoneDirectory;
  carriers: CarrierRegistry;
}

interface Params {
  carrier: string;
  numberId: string;
  callId?: string;
  token?: string;
}

/** A carrier request that passed its signature check, with the number and account it named. */
interface Verified {
  carrier: PhoneCarrier;
  number: PhoneNumberRecord;
  account: CarrierAccount;
  req: CarrierHttpRequest;
}

function headersOf(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers))
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** The request as the carrier made it: the public URL it called and the raw body. */
export function carrierRequest(request: FastifyRequest, base: string): CarrierHttpRequest {
  return {
    method: request.method,
    url: base + request.url,
    headers: headersOf(request),
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
  };
}

function fail(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.status(status).send({ error: { code, message } });
}

function send(reply: FastifyReply, answer: CarrierReply) {
  return reply
    .status(answer.status)
    .header('content-type', answer.contentType ?? 'text/plain; charset=utf-8')
    .send(answer.body);
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function phoneWebhookRoutes(app: FastifyInstance, deps: PhoneWebhookDeps): Promise<void> {
  const { numbers, carriers, admission } = deps;
  // Signatures cover the body's exact bytes: it is kept raw here (and only here).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'application/json'],
    { parseAs: 'buffer' },
    (_request, body, done) => done(null, body),
  );

  /** Finds the carrier and number of the path and checks the signature; else answers and returns undefined. */
  async function verify(request: FastifyRequest, reply: FastifyReply): Promise<Verified | undefined> {
    const params = request.params as Params;
    const carrier = carriers.get(params.carrier);
    const number = carrier ? await numbers.number(params.numberId) : undefined;
    if (!carrier || !number || number.provider !== carrier.name) {
      await fail(reply, 404, 'not_found', `no ${params.carrier} phone number ${params.numberId}`);
      return undefined;
    }
    let account: CarrierAccount;
    try {
      account = await numbers.account(number, carrier.defaultApiBaseUrl);
    } catch (error) {
      deps.log.error({ err: error, phoneNumberId: number.id }, 'phone number credentials do not decrypt');
      await fail(reply, 500, 'internal_error', 'the number credentials cannot be read');
      return undefined;
    }
    const req = carrierRequest(request, publicBase(deps.publicUrl));
    const verdict = carrier.verifyWebhook(req, account, Date.now());
    if (!verdict.ok) {
      deps.log.warn(
        { phoneNumberId: number.id, carrier: carrier.name, reason: verdict.reason },
        'carrier webhook refused',
      );
      await fail(
        reply,
        403,
        'invalid_signature',
        `${carrier.displayName} signature refused: ${verdict.reason}`,
      );
      return undefined;
    }
    return { carrier, number, account, req };
  }

  /** A status the carrier reported for a call of this number, applied to the call. */
  async function applyStatus(v: Verified, report: StatusReport, callId?: string): Promise<void> {
    let id = callId;
    if (!id) {
      const found = await admission.findByCarrierId(v.carrier.name, report.carrierCallId);
      if (!found || (found.phoneNumberId && found.phoneNumberId !== v.number.id)) {
        deps.log.warn(
          { carrier: v.carrier.name, carrierCallId: report.carrierCallId, status: report.status },
          'status callback for no call of this number',
        );
        return;
      }
      id = found.call.id;
    }
    await deps.phoneStatus.report(id, {
      status: report.status,
      detail: report.detail,
      ...(report.sipCode !== undefined ? { sipCode: report.sipCode } : {}),
      ...(report.answeredBy ? { answeredBy: report.answeredBy } : {}),
    });
  }

  /** The call of a per-call route, when it belongs to the path's number (and records its carrier id). */
  async function callOf(v: Verified, reply: FastifyReply, report?: StatusReport) {
    const callId = (reply.request.params as Params).callId ?? '';
    const leg = await numbers.leg(callId);
    if (!leg || leg.phoneNumberId !== v.number.id) {
      await fail(reply, 404, 'not_found', `no call ${callId} on this number`);
      return undefined;
    }
    // The carrier's latest id wins: Plivo names an outbound call by its request id until it answers.
    if (report?.carrierCallId && report.carrierCallId !== leg.carrierCallId)
      await admission.setCarrierCallId(callId, report.carrierCallId);
    return leg;
  }

  const methods: ('GET' | 'POST')[] = ['GET', 'POST'];
  const hide = { hide: true };

  app.route({
    method: methods,
    url: '/telephony/:carrier/:numberId/inbound',
    schema: hide,
    handler: async (request, reply) => {
      const v = await verify(request, reply);
      if (!v) return reply;
      const { carrier, number, account } = v;
      const offer = carrier.parseInbound(v.req);
      if (!offer) {
        // Telnyx sends every event of the call to this one URL.
        const report = carrier.parseStatus(v.req);
        if (report) await applyStatus(v, report);
        return reply.status(200).send('');
      }
      if (await admission.findByCarrierId(carrier.name, offer.carrierCallId)) {
        return fail(reply, 409, 'conflict', `call ${offer.carrierCallId} was already answered`);
      }
      const signal = AbortSignal.timeout(CARRIER_REPLY_TIMEOUT_MS);
      const refuse = async (say: string, forwardTo = number.fallbackDestination) =>
        send(
          reply,
          await carrier.refuse(offer, { say, ...(forwardTo ? { forwardTo } : {}) }, account, signal),
        );
      let admitted: Awaited<ReturnType<typeof admission.admit>>;
      try {
        admitted = await admission.admit(
          {
            teamId: number.teamId,
            channel: carrier.name,
            direction: 'inbound',
            customer: { number: offer.from },
            phoneNumber: {
              id: number.id,
              number: number.number,
              ...(number.assistantId ? { assistantId: number.assistantId } : {}),
              ...(number.fallbackDestination ? { fallbackDestination: number.fallbackDestination } : {}),
            },
            assistant: {},
            carrierCallId: offer.carrierCallId,
            ...(number.server ? { server: number.server } : {}),
          },
          AbortSignal.timeout(ADMIT_BUDGET_MS),
        );
      } catch (error) {
        deps.log.error({ err: error, phoneNumberId: number.id }, 'an inbound call could not be admitted');
        return refuse(APOLOGY);
      }
      if (admitted.kind === 'refused') return refuse(admitted.say, admitted.forwardTo);
      const { call, mediaToken } = admitted;
      try {
        const urls = callUrls(deps.publicUrl, carrier.name, number.id, call.id, mediaToken);
        return send(reply, await carrier.answer({ callId: call.id, offer, urls }, account, signal));
      } catch (error) {
        deps.log.error({ err: error, callId: call.id }, 'the carrier did not take the answer');
        await admission.end(number.teamId, call.id, `${carrier.name}-failed-to-connect-call`);
        return fail(reply, 502, 'carrier_error', `${carrier.displayName} answer failed: ${errorText(error)}`);
      }
    },
  });

  app.route({
    method: methods,
    url: '/telephony/:carrier/:numberId/status',
    schema: hide,
    handler: async (request, reply) => {
      const v = await verify(request, reply);
      if (!v) return reply;
      const report = v.carrier.parseStatus(v.req);
      if (report) await applyStatus(v, report);
      return reply.status(200).send('');
    },
  });

  app.route({
    method: methods,
    url: '/telephony/:carrier/:numberId/calls/:callId/status',
    schema: hide,
    handler: async (request, reply) => {
      const v = await verify(request, reply);
      if (!v) return reply;
      const report = v.carrier.parseStatus(v.req);
      const leg = await callOf(v, reply, report);
      if (!leg) return reply;
      if (report) await applyStatus(v, report, leg.callId);
      return reply.status(200).send('');
    },
  });

  app.route({
    method: methods,
    url: '/telephony/:carrier/:numberId/calls/:callId/answer/:token',
    schema: hide,
    handler: async (request, reply) => {
      const v = await verify(request, reply);
      if (!v) return reply;
      const report = v.carrier.parseStatus(v.req);
      const leg = await callOf(v, reply, report);
      if (!leg) return reply;
      if (!v.carrier.answerOutbound)
        return fail(reply, 404, 'not_found', `${v.carrier.displayName} does not fetch call markup`);
      if (report) await applyStatus(v, report, leg.callId);
      const token = (request.params as Params).token ?? '';
      const urls = callUrls(deps.publicUrl, v.carrier.name, v.number.id, leg.callId, token);
      return send(reply, v.carrier.answerOutbound({ callId: leg.callId, urls, req: v.req }));
    },
  });

  app.route({
    method: methods,
    url: '/telephony/:carrier/:numberId/calls/:callId/after',
    schema: hide,
    handler: async (request, reply) => {
      const v = await verify(request, reply);
      if (!v) return reply;
      const report = v.carrier.parseStatus(v.req);
      const leg = await callOf(v, reply, report);
      if (!leg) return reply;
      if (report) await applyStatus(v, report, leg.callId);
      return send(reply, v.carrier.afterStream?.(v.req) ?? { status: 200, body: '' });
    },
  });
}
