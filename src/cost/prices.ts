/**
 * What each vendor charges, in USD: speech recognition per audio minute, language models per
 * million input and output tokens (per model, `*` for the provider's other models), speech
 * synthesis per million characters, telephony per minute. Local providers cost nothing.
 * The defaults are public list prices (approximate, 2025); a deployment overrides any of them
 * with `PARLEY_PRICES` (JSON of the same shape, merged over the defaults).
 */
export interface PriceTable {
  stt: Record<string, { perMinute: number }>;
  llm: Record<string, Record<string, { inputPerMTok: number; outputPerMTok: number }>>;
  tts: Record<string, { perMillionChars: number }>;
  telephony: Record<string, { perMinute: number }>;
}

export const defaultPrices = {
  stt: {
    pocketsphinx: { perMinute: 0 },
    deepgram: { perMinute: 0.0043 },
    openai: { perMinute: 0.006 },
    assemblyai: { perMinute: 0.0065 },
    google: { perMinute: 0.016 },
    azure: { perMinute: 0.0167 },
  },
  llm: {
    scripted: { '*': { inputPerMTok: 0, outputPerMTok: 0 } },
    local: { '*': { inputPerMTok: 0, outputPerMTok: 0 } },
    'openai-compatible': { '*': { inputPerMTok: 0, outputPerMTok: 0 } },
    openai: {
      'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
      'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
      'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
      '*': { inputPerMTok: 2.5, outputPerMTok: 10 },
    },
    anthropic: {
      'claude-3-5-haiku-latest': { inputPerMTok: 0.8, outputPerMTok: 4 },
      '*': { inputPerMTok: 3, outputPerMTok: 15 },
    },
    gemini: {
      'gemini-2.0-flash': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
      '*': { inputPerMTok: 0.3, outputPerMTok: 2.5 },
    },
  },
  tts: {
    flite: { perMillionChars: 0 },
    espeak: { perMillionChars: 0 },
    'espeak-ng': { perMillionChars: 0 },
    openai: { perMillionChars: 15 },
    elevenlabs: { perMillionChars: 180 },
    google: { perMillionChars: 16 },
    azure: { perMillionChars: 16 },
  },
  telephony: {
    web: { perMinute: 0 },
    twilio: { perMinute: 0.0085 },
    telnyx: { perMinute: 0.002 },
    vonage: { perMinute: 0.0062 },
  },
} as const satisfies PriceTable;

/** The defaults with `overrides` merged over them (vendor by vendor, model by model). */
export function mergePrices(overrides: Partial<PriceTable> = {}): PriceTable {
  const base = structuredClone(defaultPrices) as unknown as PriceTable;
  for (const kind of ['stt', 'tts', 'telephony'] as const) {
    Object.assign(base[kind], overrides[kind] ?? {});
  }
  for (const [provider, models] of Object.entries(overrides.llm ?? {}))
    base.llm[provider] = { ...(base.llm[provider] ?? {}), ...models };
  return base;
}

/** The price table of this process: the defaults, with `PARLEY_PRICES` (JSON) over them. */
export function pricesFromEnv(env: NodeJS.ProcessEnv = process.env): PriceTable {
  const raw = env.PARLEY_PRICES;
  if (!raw) return mergePrices();
  try {
    return mergePrices(JSON.parse(raw) as Partial<PriceTable>);
  } catch (error) {
    throw new Error(`PARLEY_PRICES is not valid JSON: ${(error as Error).message}`);
  }
}

let configured: PriceTable | undefined;

/**
 * The table calls are priced with (read from the environment once). Never throws: a call's
 * report must go out, so an invalid `PARLEY_PRICES` means the defaults, with a process warning.
 */
export function currentPrices(): PriceTable {
  if (!configured) {
    try {
      configured = pricesFromEnv();
    } catch (error) {
      process.emitWarning(`${(error as Error).message}; using the default prices`);
      configured = mergePrices();
    }
  }
  return configured;
}
