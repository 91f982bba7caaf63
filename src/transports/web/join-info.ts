/** How a browser joins a web call: its WebSocket URL with the one-time media token. */
export interface JoinInfo {
  url: string;
  token: string;
  expiresAt: string;
  protocol: string;
}

export const WEB_CALL_PROTOCOL = 'parley-web-call.v1';

/** `publicUrl` is http[s]://host[:port]; the join URL is its ws[s]:// twin. */
export function joinInfo(publicUrl: string, callId: string, token: string, expiresAt: number): JoinInfo {
  const base = publicUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
  return {
    url: `${base}/v1/calls/${callId}/ws?token=${token}`,
    token,
    expiresAt: new Date(expiresAt).toISOString(),
    protocol: WEB_CALL_PROTOCOL,
  };
}
