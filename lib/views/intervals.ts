/**
 * A host's samples as intervals: consecutive pairs of samples with data (every `every`-th one,
 * for coarser rows) and their `computeRates`, timed the way `summary` times them (a file with
 * only whole-second stamps uses its nominal interval). The rows of `show`, `watch` and
 * `compare` are read from these, so their numbers are exactly `computeRates` on the same pairs.
 */
import type { TimeSeriesSample } from '../models/sample.js';
import { computeRates } from '../rates/compute.js';
import type { Rates } from '../types/rates.js';

/** Sample time in ns: the precise stamp, else the whole-second timestamp. */
export function sampleNs(s: { timestampNs?: number; timestamp: string }): number {
  return s.timestampNs ?? Date.parse(s.timestamp) * 1e6;
}

export function hasData(s: TimeSeriesSample): boolean {
  return s.diskstats !== undefined || s.stat !== undefined || s.meminfo !== undefined || s.netdev !== undefined || s.vmstat !== undefined;
}

/**
 * The samples with data, each with its tick (its index among all samples, to time a pair across
 * error samples), and the disk names they show in first-seen order: what `summary` and the
 * report read a host's samples through.
 */
export function dataTicks(samples: readonly TimeSeriesSample[]): { data: TimeSeriesSample[]; ticks: number[]; diskNames: string[] } {
  const data: TimeSeriesSample[] = [];
  const ticks: number[] = [];
  const seen = new Set<string>();
  const diskNames: string[] = [];
  samples.forEach((s, i) => {
    if (!hasData(s)) return;
    data.push(s);
    ticks.push(i);
    for (const d of s.diskstats ?? []) {
      if (!seen.has(d.device_name)) {
        seen.add(d.device_name);
        diskNames.push(d.device_name);
      }
    }
  });
  return { data, ticks, diskNames };
}

export interface Interval {
  prev: TimeSeriesSample;
  cur: TimeSeriesSample;
  rates: Rates;
  /** End of the interval (the later sample), ns since the epoch. */
  endNs: number;
  /** Seconds from the host's first sample with data to the end of the interval. */
  elapsedSeconds: number;
}

/** A time window, ns since the epoch, both ends included; either may be open. */
export interface TimeWindow {
  fromNs?: number;
  toNs?: number;
}

export interface IntervalOptions {
  /** The file's collection_interval_seconds (times pairs whose stamps are whole seconds). */
  nominalInterval: number;
  /** One interval per `every` sample steps (default 1). */
  every?: number;
  window?: TimeWindow;
}

/** Samples with data, in time order (stable), with their tick (index among all samples). */
export function dataSamples(inFileOrder: readonly TimeSeriesSample[]): { samples: TimeSeriesSample[]; ticks: number[] } {
  let sorted = true;
  for (let i = 1; i < inFileOrder.length; i++) if (sampleNs(inFileOrder[i]) < sampleNs(inFileOrder[i - 1])) sorted = false;
  const all = sorted ? inFileOrder : [...inFileOrder].sort((a, b) => sampleNs(a) - sampleNs(b));
  const samples: TimeSeriesSample[] = [];
  const ticks: number[] = [];
  all.forEach((s, i) => {
    if (hasData(s)) {
      samples.push(s);
      ticks.push(i);
    }
  });
  return { samples, ticks };
}

export function intervals(inFileOrder: readonly TimeSeriesSample[], o: IntervalOptions): Interval[] {
  const { samples, ticks } = dataSamples(inFileOrder);
  if (samples.length === 0) return [];
  const startNs = sampleNs(samples[0]);
  const from = o.window?.fromNs ?? Number.NEGATIVE_INFINITY;
  const to = o.window?.toNs ?? Number.POSITIVE_INFINITY;
  const inWindow: number[] = [];
  samples.forEach((s, i) => {
    const t = sampleNs(s);
    if (t >= from && t <= to) inWindow.push(i);
  });
  const every = Math.max(1, o.every ?? 1);
  const out: Interval[] = [];
  for (let k = every; k < inWindow.length; k += every) {
    const a = inWindow[k - every];
    const b = inWindow[k];
    const prev = samples[a];
    const cur = samples[b];
    const nominal = o.nominalInterval > 0 ? { nominalSeconds: (ticks[b] - ticks[a]) * o.nominalInterval } : {};
    const endNs = sampleNs(cur);
    out.push({ prev, cur, rates: computeRates(prev, cur, nominal), endNs, elapsedSeconds: (endNs - startNs) / 1e9 });
  }
  return out;
}
