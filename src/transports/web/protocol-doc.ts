import { CloseCodes, PROTOCOL_VERSION } from './protocol.js';

/** The web-call protocol, as the API docs page shows it (Markdown). */
export const webCallProtocolDoc = `
**Web-call protocol v${PROTOCOL_VERSION}** — one WebSocket per call.

1. \`POST /v1/calls\` with \`{"assistantId": "…"}\` (or an inline \`assistant\`) returns the Call and
   \`join.url\` (\`ws[s]://…/v1/calls/WC-…/ws?token=…\`; the token is single use and valid 60 s).
2. Connect and send \`{"type":"hello","version":1,"sampleRate":16000,"frameMs":20}\`
   (\`audioOutput:false\` for a text-only client; \`marks:false\` if the client will not ack marks).
   The server answers \`ready\`, then \`status\` (\`ongoing\`), and the welcome message.
3. Send the caller's audio as **binary** messages: mono PCM16 little-endian at \`sampleRate\`,
   exactly one frame per message (\`sampleRate × frameMs / 1000\` samples, e.g. 640 bytes for
   20 ms at 16 kHz). Or send text: \`{"type":"user-text","text":"…"}\`.
4. The server sends the assistant's audio as binary 20 ms frames, paced in real time, with
   \`{"type":"mark","id":"m12"}\` after every 200 ms and at each sentence end. Send the same
   \`mark\` back when the audio before it has **played**: that is how the server knows what the
   caller heard. On \`{"type":"clear"}\` stop playback at once and drop queued audio (the caller
   barged in; marks of cleared audio are ignored).
5. The server also sends \`transcript\` (\`final:false\` partials, \`final:true\` with the
   \`messageId\`), \`assistant-text\` (each sentence as it starts playing, then \`final:true\` with the
   text as stored, \`interrupted:true\` when cut off), \`metrics\` (seed-001 metrics of each message)
   and \`error\`.
6. \`{"type":"say"}\` plays the welcome message (for \`welcomeMessageMode: manual\`). With a
   \`text\`, the assistant speaks that text only when it has \`clientSayEnabled: true\` (otherwise
   an \`error\` \`say_not_allowed\`); the line is marked \`clientSupplied\` and stays out of the
   model's history. \`{"type":"end"}\` hangs up; so does closing the socket.
7. Limits per call: \`hello\` within 10 s; answer WebSocket pings (sent every 15 s) within 10 s;
   \`user-text\` and \`say\` at most 2 a second (bursts of 10); at most 500 user turns and
   200,000 characters of conversation; audio no faster than real time plus 1 s (the excess is
   dropped, with one \`error\` \`audio_too_fast\`).

**Close codes**: ${Object.entries(CloseCodes)
  .map(([name, code]) => `\`${code}\` ${name}`)
  .join(', ')}. A protocol violation (bad JSON or UTF-8, unknown type, wrong frame size, audio
before hello, a message over 64 KB, messages too fast) is answered with an \`error\` message and a close with its code and
reason; the call then ends (\`ended-with-error\`) with its terminal webhook events.

The JSON Schema of every message: \`GET /v1/schemas/web-call\`.
`;
