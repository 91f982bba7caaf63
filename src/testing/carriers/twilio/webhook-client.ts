/**
 * Twilio's outgoing webhooks as the simulator sends them: form-encoded POSTs signed with
 * `X-Twilio-Signature` over the exact URL (twilio-node src/webhooks/webhooks.ts), with the
 * call's standard parameters (Twilio "TwiML Voice webhooks", "status callbacks").
 */
import { twilioSignature } from '../../../transports/phone/twilio/signature.js';

export interface SentWebhook {
  url: string;
  params: Record<string, string>;
  status: number;
  body: string;
}

export type SignatureMode = 'valid' | 'bad' | 'stale' | 'none';

export class TwilioWebhookClient {
  /** Every webhook sent, with Parley's answer. */
  readonly sent: SentWebhook[] = [];

  constructor(private readonly authToken: string) {}

  async post(
    url: string,
    params: Record<string, string>,
    signature: SignatureMode = 'valid',
  ): Promise<SentWebhook> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
    };
    // Twilio signatures carry no timestamp: a "stale" (replayed) request is validly signed.
    if (signature !== 'none')
      headers['x-twilio-signature'] = twilioSignature(
        signature === 'bad' ? 'wrong-auth-token' : this.authToken,
        url,
        params,
      );
    let status = 0;
    let body = '';
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: new URLSearchParams(params).toString(),
      });
      status = response.status;
      body = await response.text();
    } catch (error) {
      body = error instanceof Error ? error.message : String(error);
    }
    const sent = { url, params, status, body };
    this.sent.push(sent);
    return sent;
  }
}

/** The parameters every Twilio voice webhook carries for a call. */
export function callParams(call: {
  accountSid: string;
  callSid: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound-api';
  status: string;
}): Record<string, string> {
  return {
    AccountSid: call.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.callSid,
    CallStatus: call.status,
    Called: call.to,
    Caller: call.from,
    Direction: call.direction,
    From: call.from,
    To: call.to,
  };
}
