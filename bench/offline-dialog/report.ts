/**
 * The figures of the offline dialog benchmark from its call results: task success, word error
 * rate (all caller turns, and in-domain turns only), caller turns per successful booking, and
 * end of caller speech → first assistant audio p50/p95, per group (band, voice, held-out).
 */
import { editDistance, words } from './audio.js';
import type { CallResult } from './caller.js';

export interface Figures {
  group: string;
  calls: number;
  successPct: number;
  bookingsOk: string;
  declinesOk: string;
  werPct: number;
  inDomainWerPct: number;
  turnsPerBooking: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  gaveUp: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function figures(group: string, results: readonly CallResult[]): Figures {
  let errors = 0;
  let total = 0;
  let inErrors = 0;
  let inTotal = 0;
  const latencies: number[] = [];
  for (const r of results)
    for (const t of r.turns) {
      const ref = words(t.said);
      const e = editDistance(ref, words(t.heard));
      errors += e;
      total += ref.length;
      if (!t.offTopic) {
        inErrors += e;
        inTotal += ref.length;
      }
      if (t.latencyMs !== undefined) latencies.push(t.latencyMs);
    }
  latencies.sort((a, b) => a - b);
  const bookers = results.filter((r) => r.script.goal);
  const booked = bookers.filter((r) => r.success);
  const decliners = results.filter((r) => !r.script.goal);
  return {
    group,
    calls: results.length,
    successPct: round1((100 * results.filter((r) => r.success).length) / Math.max(1, results.length)),
    bookingsOk: `${booked.length}/${bookers.length}`,
    declinesOk: `${decliners.filter((r) => r.success).length}/${decliners.length}`,
    werPct: round1((100 * errors) / Math.max(1, total)),
    inDomainWerPct: round1((100 * inErrors) / Math.max(1, inTotal)),
    turnsPerBooking: round1(booked.reduce((n, r) => n + r.turns.length, 0) / Math.max(1, booked.length)),
    latencyP50Ms: Math.round(percentile(latencies, 50)),
    latencyP95Ms: Math.round(percentile(latencies, 95)),
    gaveUp: results.filter((r) => r.gaveUp).length,
  };
}

/** The table: overall, per band, per voice within each band, tuned vs held-out. */
export function table(results: readonly CallResult[]): Figures[] {
  const rows = [figures('all', results)];
  const bands = [...new Set(results.map((r) => r.band))];
  for (const band of bands) {
    const inBand = results.filter((r) => r.band === band);
    rows.push(figures(band, inBand));
    for (const voice of [...new Set(inBand.map((r) => r.voice.id))])
      rows.push(
        figures(
          `${band} ${voice}`,
          inBand.filter((r) => r.voice.id === voice),
        ),
      );
    const held = inBand.filter((r) => r.script.heldOut || r.voice.heldOut);
    if (held.length > 0 && held.length < inBand.length) {
      rows.push(
        figures(
          `${band} tuning part`,
          inBand.filter((r) => !(r.script.heldOut || r.voice.heldOut)),
        ),
      );
      rows.push(figures(`${band} held-out part`, held));
    }
  }
  return rows;
}

export function formatTable(rows: readonly Figures[]): string {
  const head =
    'group                          calls success  booked  declined  WER%  inWER%  turns/bk  p50ms  p95ms  gaveUp';
  const lines = rows.map(
    (r) =>
      `${r.group.padEnd(30)} ${String(r.calls).padStart(5)} ${`${r.successPct}%`.padStart(7)} ${r.bookingsOk.padStart(7)} ${r.declinesOk.padStart(9)} ${String(r.werPct).padStart(5)} ${String(r.inDomainWerPct).padStart(7)} ${String(r.turnsPerBooking).padStart(9)} ${String(r.latencyP50Ms).padStart(6)} ${String(r.latencyP95Ms).padStart(6)} ${String(r.gaveUp).padStart(7)}`,
  );
  return [head, ...lines].join('\n');
}
