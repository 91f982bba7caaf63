/**
 * The public URLs of the phone entry point, built from the configured public URL (never the Host
 * header: signatures cover the URL the carrier called, and a proxy's Host differs).
 *
 * - `POST /telephony/<carrier>/<numberId>/inbound`: the number's voice webhook (answer URL)
 * - `POST /telephony/<carrier>/<numberId>/status`: the number's status callbacks
 * - `POST /telephony/<carrier>/<numberId>/calls/<callId>/status|after`: one call's callbacks;
 *   `…/calls/<callId>/answer/<token>`: an outbound call's markup (carriers that fetch it)
 * - `WS /telephony/<carrier>/media/<callId>/<token>`: the media stream, the one-time token in
 *   the path (Twilio drops query strings from stream URLs)
 */
import type { CallUrls, CarrierName } from './carrier.js';

export type PublicUrl = string | (() => string);

export function publicBase(publicUrl: PublicUrl): string {
  return (typeof publicUrl === 'function' ? publicUrl() : publicUrl).replace(/\/+$/, '');
}

export function numberUrls(
  publicUrl: PublicUrl,
  carrier: CarrierName,
  numberId: string,
): { inboundUrl: string; statusUrl: string } {
  const base = `${publicBase(publicUrl)}/telephony/${carrier}/${encodeURIComponent(numberId)}`;
  return { inboundUrl: `${base}/inbound`, statusUrl: `${base}/status` };
}

export function callUrls(
  publicUrl: PublicUrl,
  carrier: CarrierName,
  numberId: string,
  callId: string,
  mediaToken: string,
): CallUrls {
  const base = publicBase(publicUrl);
  const call = `${base}/telephony/${carrier}/${encodeURIComponent(numberId)}/calls/${encodeURIComponent(callId)}`;
  return {
    mediaUrl: `${base.replace(/^http/, 'ws')}/telephony/${carrier}/media/${encodeURIComponent(callId)}/${encodeURIComponent(mediaToken)}`,
    statusUrl: `${call}/status`,
    // Carriers that fetch an outbound call's markup get the media URL from here: the token rides along.
    answerUrl: `${call}/answer/${encodeURIComponent(mediaToken)}`,
    afterUrl: `${call}/after`,
  };
}
