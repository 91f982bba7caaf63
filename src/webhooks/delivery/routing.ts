import type { AssistantSpec, EventType } from '../../contract/assistant-schema.js';
import type { WireFormat } from './wire-format.js';

/** Where one event goes and how it is signed: a snapshot taken when the event is recorded. */
export interface DeliveryTarget {
  url: string;
  headers: Record<string, string>;
  secret?: string;
  timeoutMs: number;
  format: WireFormat;
}

/** The assistant's server, when it is enabled, has a URL and wants this event type. */
export function assistantServerTarget(assistant: AssistantSpec, type: EventType): DeliveryTarget | undefined {
  const server = assistant.assistantServer;
  if (!server.enabled || !server.url) return undefined;
  if (server.messages && !server.messages.includes(type)) return undefined;
  return {
    url: server.url,
    headers: server.headers ?? {},
    ...(server.secret ? { secret: server.secret } : {}),
    timeoutMs: Math.round((server.timeoutSeconds ?? 20) * 1000),
    format: server.format ?? 'interactly',
  };
}

/**
 * A function tool's own `server` receives its tool-calls; otherwise the assistant's server.
 * Tool calls wait at most 10 s (less where the tool or the assistant server says so).
 */
export function toolCallTarget(assistant: AssistantSpec, toolName: string): DeliveryTarget | undefined {
  const tool = assistant.tools.find((t) => t.type === 'function' && t.name === toolName);
  const own = tool?.type === 'function' ? tool.server : undefined;
  const cap = 10_000;
  if (own) {
    return {
      url: own.url,
      headers: own.headers ?? {},
      ...(own.secret ? { secret: own.secret } : {}),
      timeoutMs: Math.min(cap, Math.round((own.timeoutSeconds ?? 10) * 1000)),
      format: assistant.assistantServer.format ?? 'interactly',
    };
  }
  const server = assistantServerTarget(assistant, 'tool-calls');
  return server ? { ...server, timeoutMs: Math.min(cap, server.timeoutMs) } : undefined;
}
