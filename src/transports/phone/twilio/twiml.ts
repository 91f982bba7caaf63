/**
 * TwiML documents Parley returns to Twilio (Twilio "TwiML Voice": `<Connect>`, `<Stream>`,
 * `<Parameter>`, `<Dial>`, `<Number>`, `<Sip>`, `<Say>`, `<Hangup>`; twilio-node
 * src/twiml/VoiceResponse.ts). `<Connect><Stream>` is the bidirectional stream and blocks: the
 * `action` URL is fetched when the stream ends, and answers `<Hangup/>`. Stream URLs lose their
 * query string at Twilio, so the call id travels as a `<Parameter>` and the token in the path.
 */
import type { TransferDestination } from '../../transport.js';
import type { CallUrls } from '../carrier.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Escapes text for an XML attribute or element. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;',
  );
}

const doc = (body: string): string => `${XML_DECLARATION}<Response>${body}</Response>`;

/** Opens the bidirectional media stream of call `callId`. */
export function connectStreamTwiml(
  callId: string,
  urls: Pick<CallUrls, 'mediaUrl' | 'statusUrl' | 'afterUrl'>,
): string {
  return doc(
    `<Connect action="${xmlEscape(urls.afterUrl)}" method="POST">` +
      `<Stream url="${xmlEscape(urls.mediaUrl)}" statusCallback="${xmlEscape(urls.statusUrl)}" statusCallbackMethod="POST">` +
      `<Parameter name="callId" value="${xmlEscape(callId)}"/>` +
      '</Stream></Connect>',
  );
}

/** What the `<Connect action>` URL answers when the stream has ended: the call ends. */
export const hangupTwiml = (): string => doc('<Hangup/>');

export const sayAndHangupTwiml = (say: string): string => doc(`<Say>${xmlEscape(say)}</Say><Hangup/>`);

/** Forwards the call: `<Dial>` to a number (E.164) or a SIP URI. */
export function dialTwiml(to: TransferDestination, options: { say?: string; action?: string } = {}): string {
  const callerId = to.type === 'number' && to.callerId ? ` callerId="${xmlEscape(to.callerId)}"` : '';
  const action = options.action ? ` action="${xmlEscape(options.action)}" method="POST"` : '';
  const noun =
    to.type === 'number' ? `<Number>${xmlEscape(to.number)}</Number>` : `<Sip>${xmlEscape(to.sipUri)}</Sip>`;
  const say = options.say ? `<Say>${xmlEscape(options.say)}</Say>` : '';
  return doc(`${say}<Dial${callerId}${action}>${noun}</Dial>`);
}
