/**
 * Parley's browser SDK: typed REST calls, the live events stream and web calls.
 *
 * ```html
 * <script type="module">
 *   import { ParleyClient } from 'https://parley.example.com/sdk/parley.js';
 *   const client = new ParleyClient({ baseUrl: 'https://parley.example.com', apiKey });
 *   const call = await client.startCall({ assistantId, mode: 'voice' });
 *   call.on('lines', (lines) => render(lines));
 * </script>
 * ```
 */
export type { PlaybackState } from './audio/player.js';
export { ParleyClient, type ParleyClientOptions } from './client.js';
export { ParleyApiError } from './errors.js';
export { defaultEventStreamOptions, type EventStreamOptions } from './events.js';
export * from './types.js';
export {
  type CallMode,
  defaultWebCallOptions,
  type StartCallOptions,
  type TranscriptLine,
  WebCall,
  type WebCallEvents,
} from './web-call.js';
