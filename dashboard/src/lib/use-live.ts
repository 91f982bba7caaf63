import { useEffect, useRef, useState } from 'react';
import type { LiveEvent, ParleyClient } from '../../../browser-sdk/src/index.js';

export const POLL_MS = 5000;

/**
 * Subscribes to the live events stream (optionally one call's) while mounted, and reports
 * whether it is connected; `onPoll` runs every 5 s whenever it is not (the stream failed, or
 * the server has none), so pages stay current either way.
 */
export function useLiveEvents(
  client: ParleyClient,
  options: { callId?: string; enabled?: boolean; onEvent: (event: LiveEvent) => void; onPoll: () => void },
): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  const handlers = useRef(options);
  handlers.current = options;
  const enabled = options.enabled ?? true;
  const { callId } = options;

  useEffect(() => {
    if (!enabled) return;
    const stop = new AbortController();
    void (async () => {
      try {
        for await (const event of client.events({
          ...(callId ? { callId } : {}),
          signal: stop.signal,
          onOpen: () => setConnected(true),
          onError: () => setConnected(false),
        })) {
          handlers.current.onEvent(event);
        }
      } catch {
        // gave up (401/404): polling takes over
      }
      setConnected(false);
    })();
    return () => {
      stop.abort();
      setConnected(false);
    };
  }, [client, callId, enabled]);

  useEffect(() => {
    if (!enabled || connected) return;
    const timer = setInterval(() => handlers.current.onPoll(), POLL_MS);
    return () => clearInterval(timer);
  }, [enabled, connected]);

  return { connected };
}
