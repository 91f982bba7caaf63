/**
 * `WS /telephony/<carrier>/media/<callId>/<token>`: a carrier's media stream for one call. The
 * one-time token is in the path (Twilio drops query strings); carriers that sign the upgrade
 * (Twilio, Plivo) are checked over the public `wss://` URL. A bad signature, or a token that is
 * wrong, expired or used, closes the socket with a code and a reason and reaches no call.
 * Otherwise the carrier's media stream is attached to the call, with call control bound to the
 * carrier's REST API and the number's account.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { EntryPointDeps } from '../ports.js';
import { bindCallControl } from './call-control.js';
import type { CarrierAccount, CarrierHttpRequest } from './carrier.js';
import type { CarrierRegistry } from './carriers.js';
import type { PhoneDirectory } from './phone-ports.js';
import { callUrls, publicBase } from './phone-urls.js';
import { carrierRequest } from './phone-webhooks.js';

/** Close codes of a refused media socket (the web call's codes where they mean the same). */
export const PhoneMediaCloseCodes = {
  badToken: 4401,
  badSignature: 4403,
  notFound: 4404,
  conflict: 4409,
} as const;

export interface PhoneMediaDeps extends EntryPointDeps {
  numbers: PhoneDirectory;
  carriers: CarrierRegistry;
}

export async function phoneMediaRoute(app: FastifyInstance, deps: PhoneMediaDeps): Promise<void> {
  const { numbers, carriers, admission } = deps;

  /** Checks everything before the call is touched; the socket is closed with a reason on a refusal. */
  async function connect(socket: WebSocket, params: Record<string, string>, upgrade: CarrierHttpRequest) {
    const refuse = (code: number, reason: string) => {
      deps.log.warn({ callId: params.callId, carrier: params.carrier, reason }, 'carrier media refused');
      socket.close(code, reason.slice(0, 120));
    };
    const callId = params.callId ?? '';
    const carrier = carriers.get(params.carrier ?? '');
    const leg = carrier ? await numbers.leg(callId) : undefined;
    const number = leg ? await numbers.number(leg.phoneNumberId) : undefined;
    if (!carrier || !leg || !number || number.provider !== carrier.name)
      return refuse(PhoneMediaCloseCodes.notFound, `no ${params.carrier} phone call ${callId}`);
    let account: CarrierAccount;
    try {
      account = await numbers.account(number, carrier.defaultApiBaseUrl);
    } catch {
      return refuse(PhoneMediaCloseCodes.conflict, 'the number credentials cannot be read');
    }
    const verdict = carrier.verifyMediaUpgrade(upgrade, account, Date.now());
    if (!verdict.ok) return refuse(PhoneMediaCloseCodes.badSignature, `signature refused: ${verdict.reason}`);
    const accepted = await admission.acceptMedia(callId, params.token);
    if (!accepted.ok) {
      const code =
        accepted.code === 'bad_token'
          ? PhoneMediaCloseCodes.badToken
          : accepted.code === 'not_found'
            ? PhoneMediaCloseCodes.notFound
            : PhoneMediaCloseCodes.conflict;
      return refuse(code, accepted.reason);
    }
    if (socket.readyState !== socket.OPEN) {
      // The carrier left while the token was checked: nobody is on the call.
      await accepted.release('the carrier closed the media stream before it was connected');
      return;
    }
    const control = bindCallControl({
      carrier,
      account,
      callId,
      numbers,
      ...(leg.carrierCallId ? { carrierCallId: leg.carrierCallId } : {}),
      urls: callUrls(deps.publicUrl, carrier.name, number.id, callId, params.token ?? ''),
    });
    const transport = carrier.createMedia(socket, {
      callId,
      control,
      limits: { helloTimeoutMs: deps.inputLimits.helloTimeoutMs },
      log: deps.log,
    });
    try {
      accepted.attach(transport);
    } catch (error) {
      refuse(
        PhoneMediaCloseCodes.conflict,
        error instanceof Error ? error.message : 'the call cannot take media now',
      );
    }
  }

  app.route({
    method: 'GET',
    url: '/telephony/:carrier/media/:callId/:token',
    config: { webSocket: true },
    schema: { hide: true },
    handler: async (_request, reply) =>
      reply
        .status(426)
        .header('upgrade', 'websocket')
        .send({
          error: { code: 'upgrade_required', message: "this is a carrier's media WebSocket" },
        }),
    wsHandler: async (socket, request) => {
      // What the carrier sends while the call is checked (`connected`, `start`) is kept, in order.
      const early: [data: unknown, isBinary: boolean][] = [];
      const keep = (data: unknown, isBinary: boolean) => early.push([data, isBinary]);
      socket.on('message', keep);
      const base = publicBase(deps.publicUrl).replace(/^http/, 'ws');
      try {
        await connect(socket, request.params as Record<string, string>, carrierRequest(request, base));
      } catch (error) {
        deps.log.error({ err: error }, 'carrier media could not be connected');
        socket.close(PhoneMediaCloseCodes.conflict, 'the call cannot take media now');
      }
      socket.off('message', keep);
      for (const [data, isBinary] of early) socket.emit('message', data, isBinary);
    },
  });
}
