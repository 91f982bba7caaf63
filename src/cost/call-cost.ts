/**
 * `call.cost`: one priced line per metered usage, the sum per vendor, and the total, in USD.
 * Amounts are computed in whole units of 1e-8 USD and summed as integers, so the lines add up
 * to the vendor sums and to the total exactly (at 8 decimals). A vendor missing from the price
 * table costs 0 and its line says `priced: false`.
 */
import type { PriceTable } from './prices.js';
import type { UsageLine } from './usage.js';

export interface CostLine {
  kind: UsageLine['kind'];
  vendor: string;
  model?: string;
  quantity: number;
  unit: 'audio-minute' | 'input-token' | 'output-token' | 'character' | 'minute';
  /** USD per unit. */
  unitPriceUsd: number;
  costUsd: number;
  priced: boolean;
}

export interface CallCost {
  currency: 'USD';
  total: number;
  /** The total per vendor. */
  vendors: Record<string, number>;
  /** The total per kind (stt, llm, tts, telephony, analysis). */
  kinds: Record<string, number>;
  breakdown: CostLine[];
}

const SCALE = 1e8;
const toUnits = (usd: number) => Math.round(usd * SCALE);
const toUsd = (units: number) => units / SCALE;

function llmPrice(prices: PriceTable, vendor: string, model: string | undefined) {
  const models = prices.llm[vendor];
  return models ? (models[model ?? ''] ?? models['*']) : undefined;
}

function priceLines(line: UsageLine, prices: PriceTable): Omit<CostLine, 'costUsd'>[] {
  const base = { kind: line.kind, vendor: line.vendor, ...(line.model ? { model: line.model } : {}) };
  switch (line.kind) {
    case 'stt':
    case 'telephony': {
      const table = line.kind === 'stt' ? prices.stt : prices.telephony;
      const price = table[line.vendor];
      return [
        {
          ...base,
          quantity: (line.audioMs ?? 0) / 60_000,
          unit: line.kind === 'stt' ? 'audio-minute' : 'minute',
          unitPriceUsd: price?.perMinute ?? 0,
          priced: price !== undefined,
        },
      ];
    }
    case 'tts': {
      const price = prices.tts[line.vendor];
      return [
        {
          ...base,
          quantity: line.characters ?? 0,
          unit: 'character',
          unitPriceUsd: (price?.perMillionChars ?? 0) / 1e6,
          priced: price !== undefined,
        },
      ];
    }
    case 'llm':
    case 'analysis': {
      const price = llmPrice(prices, line.vendor, line.model);
      return [
        {
          ...base,
          quantity: line.inputTokens ?? 0,
          unit: 'input-token',
          unitPriceUsd: (price?.inputPerMTok ?? 0) / 1e6,
          priced: price !== undefined,
        },
        {
          ...base,
          quantity: line.outputTokens ?? 0,
          unit: 'output-token',
          unitPriceUsd: (price?.outputPerMTok ?? 0) / 1e6,
          priced: price !== undefined,
        },
      ];
    }
  }
}

export function callCost(usage: readonly UsageLine[], prices: PriceTable): CallCost {
  const breakdown: CostLine[] = [];
  const vendors = new Map<string, number>();
  const kinds = new Map<string, number>();
  let total = 0;
  for (const line of usage) {
    for (const priced of priceLines(line, prices)) {
      const units = toUnits(priced.quantity * priced.unitPriceUsd);
      total += units;
      vendors.set(line.vendor, (vendors.get(line.vendor) ?? 0) + units);
      kinds.set(line.kind, (kinds.get(line.kind) ?? 0) + units);
      breakdown.push({
        ...priced,
        quantity: Math.round(priced.quantity * 1e6) / 1e6,
        costUsd: toUsd(units),
      });
    }
  }
  const usd = (m: Map<string, number>) => Object.fromEntries([...m].map(([k, v]) => [k, toUsd(v)]));
  return { currency: 'USD', total: toUsd(total), vendors: usd(vendors), kinds: usd(kinds), breakdown };
}
