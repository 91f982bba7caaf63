// The intended layers of src/, lowest first. A folder may import its own layer and the ones
// below; an import upward, or a cycle between folders of one layer, fails
// test/structure/layering.test.ts unless it is in known-violations.ts.
export const LAYERS: readonly (readonly string[])[] = [
  // 0. core: leaves that know nothing of the server (ids, clock, errors, network guard, PCM,
  //    settings, logging, storage) and the contract's schemas (contract/, published by the SDK)
  ['shared', 'contract', 'audio', 'config', 'logger', 'db'],
  // 1. adapters: one interface per capability and the providers behind it; the transport interface
  ['vad', 'stt', 'tts', 'llm', 'transports'],
  // 2. the engine and what it is assembled from: provider registry and catalog, metering, recording
  ['providers', 'engine', 'cost', 'recording'],
  // 3. the product's nouns: their schemas, stores and services (and, today, their routes)
  ['assistants', 'calls', 'phone-numbers', 'webhooks', 'tenancy', 'analysis', 'live', 'listen'],
  // 4. the HTTP app and the admin channel, which mount the routes
  ['http', 'dashboard-server', 'admin'],
  // 5. entry points and the fakes for tests and benchmarks, which wire everything
  ['server', 'cli', 'testing'],
];

export const layerOf: ReadonlyMap<string, number> = new Map(
  LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)),
);
