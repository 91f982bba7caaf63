/**
 * What the Twilio simulator needs out of the TwiML Parley returns: the `<Connect>` action, the
 * `<Stream>` URL (its query string dropped, as Twilio does), status callback and `<Parameter>`s,
 * a `<Dial>` destination, `<Say>` text and `<Hangup>`. A reader for Parley's own documents, not
 * a general XML parser.
 */
export interface ReadTwiml {
  connectAction?: string;
  stream?: { url: string; statusCallback?: string; parameters: Record<string, string> };
  dial?: { callerId?: string; number?: string; sip?: string };
  say?: string;
  hangup: boolean;
}

const unescapeXml = (text: string): string =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of tag.matchAll(/([A-Za-z]+)="([^"]*)"/g))
    out[match[1] as string] = unescapeXml(match[2] as string);
  return out;
}

/** Twilio ignores the query string of a `<Stream url>` (telephony.md §1.1). */
export function dropQuery(url: string): string {
  const at = url.search(/[?#]/);
  return at === -1 ? url : url.slice(0, at);
}

export function readTwiml(xml: string): ReadTwiml {
  if (!/<Response\b/.test(xml)) throw new Error(`not TwiML: ${xml.slice(0, 80)}`);
  const result: ReadTwiml = { hangup: /<Hangup\s*\/?>/.test(xml) };
  const connect = /<Connect\b([^>]*)>/.exec(xml);
  if (connect) {
    const action = attributes(connect[1] ?? '').action;
    if (action) result.connectAction = action;
  }
  const stream = /<Stream\b([^>]*?)\/?>([\s\S]*?)(<\/Stream>|$)/.exec(xml);
  if (stream) {
    const attrs = attributes(stream[1] ?? '');
    const parameters: Record<string, string> = {};
    for (const p of (stream[2] ?? '').matchAll(/<Parameter\b([^>]*)\/?>/g)) {
      const a = attributes(p[1] ?? '');
      if (a.name !== undefined) parameters[a.name] = a.value ?? '';
    }
    if (!attrs.url) throw new Error('<Stream> without url');
    result.stream = {
      url: dropQuery(attrs.url),
      ...(attrs.statusCallback ? { statusCallback: attrs.statusCallback } : {}),
      parameters,
    };
  }
  const dial = /<Dial\b([^>]*)>([\s\S]*?)<\/Dial>/.exec(xml);
  if (dial) {
    const callerId = attributes(dial[1] ?? '').callerId;
    const number = /<Number\b[^>]*>([^<]*)<\/Number>/.exec(dial[2] ?? '')?.[1];
    const sip = /<Sip\b[^>]*>([^<]*)<\/Sip>/.exec(dial[2] ?? '')?.[1];
    result.dial = {
      ...(callerId ? { callerId } : {}),
      ...(number ? { number: unescapeXml(number.trim()) } : {}),
      ...(sip ? { sip: unescapeXml(sip.trim()) } : {}),
    };
  }
  const say = /<Say\b[^>]*>([\s\S]*?)<\/Say>/.exec(xml)?.[1];
  if (say !== undefined) result.say = unescapeXml(say);
  return result;
}
