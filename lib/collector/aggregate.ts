/**
 * Windows and aggregates over a series of samples: any numeric path of a sample
 * (`meminfo.MemAvailable`, `loadavg.load_1min`, `diskstats.sda.reads_completed`) or of the
 * derived rates between consecutive samples (`rates.disk.sda.util`, `rates.cpu.all.busy`).
 */
import { InvalidOptionError } from '../errors.js';
import { computeRates, intervalSeconds } from '../rates/compute.js';
import type { RateInput } from '../types/rates.js';
import type { Aggregate } from '../types/collector.js';
import { METRICS } from '../types/sample.js';

export function summarize(values: readonly number[], spanSeconds: number): Aggregate {
  const input: unknown = values;
  if (!Array.isArray(input)) throw new InvalidOptionError(`summarize: values must be an array of numbers, got ${typeof input}`);
  const bad = values.findIndex((v) => typeof v !== 'number' || Number.isNaN(v));
  if (bad >= 0) throw new InvalidOptionError(`summarize: values[${bad}] must be a number, got ${String(values[bad])}`);
  const n = values.length;
  if (n === 0) return { count: 0, spanSeconds, avg: NaN, min: NaN, max: NaN, p95: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0];
  const max = sorted[n - 1];
  return {
    count: n,
    spanSeconds,
    avg: mean(sorted, min, max),
    min,
    max,
    p95: sorted[Math.max(0, Math.ceil(0.95 * n) - 1)],
  };
}

/**
 * The mean, always within [min, max]. A plain running sum drifts (11 x 0.3 sums to
 * 3.2999999999999994, so the mean falls below the minimum) and overflows near 1.8e308, so the
 * sum is compensated (Neumaier) and scaled by n when it would overflow; the last ulp of
 * rounding left is clamped away.
 */
function mean(values: readonly number[], min: number, max: number): number {
  if (min === max) return min;
  let sum = 0;
  let carry = 0;
  for (const v of values) {
    const t = sum + v;
    carry += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  let avg = (sum + carry) / values.length;
  if (!Number.isFinite(avg)) avg = values.reduce((s, v) => s + v / values.length, 0);
  return Math.min(max, Math.max(min, avg));
}

/** Lists keyed by name inside a sample (diskstats by device, netdev by interface, processes by key). */
const LIST_KEYS: Record<string, string> = { diskstats: 'device_name', netdev: 'interface_name', processes: 'key' };

function child(node: unknown, key: string, parentKey: string | undefined): unknown {
  if (Array.isArray(node)) {
    const nameKey = parentKey === undefined ? undefined : LIST_KEYS[parentKey];
    return nameKey ? node.find((e: Record<string, unknown>) => e[nameKey] === key) : undefined;
  }
  if (node !== null && typeof node === 'object') return (node as Record<string, unknown>)[key];
  return undefined;
}

/** Walk a dotted path; a segment may itself contain dots (`eth0.100`), longest match first. */
function walk(node: unknown, segs: readonly string[], parentKey?: string): unknown {
  if (segs.length === 0) return node;
  for (let k = segs.length; k >= 1; k--) {
    const key = segs.slice(0, k).join('.');
    const next = child(node, key, parentKey);
    if (next !== undefined) {
      const found = walk(next, segs.slice(k), key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

export function valueAt(obj: unknown, path: string): number | undefined {
  return asNumber(walk(obj, path.split('.')));
}

const SAMPLE_SECTIONS: readonly string[] = [...METRICS, 'processes', 'app', 'collectors'];
const RATE_SECTIONS: readonly string[] = ['disk', 'net', 'cpu', 'mem', 'vm', 'proc', 'app'];

export function checkPath(metric: unknown): string {
  if (typeof metric !== 'string' || metric.length === 0 || metric.split('.').some((s) => s === '')) {
    throw new InvalidOptionError(`metric must be a dotted path such as "meminfo.MemAvailable" or "rates.disk.sda.util", got ${JSON.stringify(metric)}`);
  }
  // A typo in the section is an error; past it, a name the samples lack is only "no data" (a
  // disk or counter may come and go).
  const [section, sub] = metric.split('.');
  const known = section === 'rates' ? RATE_SECTIONS.includes(sub ?? '') : SAMPLE_SECTIONS.includes(section ?? '');
  if (!known) {
    const choices = section === 'rates' ? RATE_SECTIONS.map((s) => `rates.${s}`) : [...SAMPLE_SECTIONS, 'rates'];
    throw new InvalidOptionError(`metric ${JSON.stringify(metric)}: no such section; it starts with one of ${choices.join(', ')}`);
  }
  return metric;
}

/** What each rates section is computed from (`stat` too: its boot time tells a reboot). */
const RATE_INPUTS: Record<string, readonly string[]> = {
  disk: ['diskstats', 'stat'], net: ['netdev', 'stat'], cpu: ['stat'], mem: ['meminfo', 'stat'], vm: ['vmstat', 'stat'],
  proc: ['processes', 'stat'], app: ['app', 'stat'],
};

/**
 * The sample sections `series(samples, metric)` reads (so only those need decoding), or undefined
 * for all of them. `metric` must have passed `checkPath`.
 */
export function sectionsOf(metric: string): ReadonlySet<string> | undefined {
  const [section, sub] = metric.split('.');
  if (section === 'collectors') return undefined;
  return new Set(section === 'rates' ? RATE_INPUTS[sub] : [section]);
}

/**
 * The values of `metric` over `samples` (in time order) and the span they cover; `at`, if given,
 * receives the index of the sample each value is of (a rate's: the later of its pair).
 */
export function series(samples: readonly RateInput[], metric: string, at?: number[]): { values: number[]; spanSeconds: number } {
  checkPath(metric);
  const values: number[] = [];
  let first = -1;
  let last = -1;
  const isRate = metric.startsWith('rates.');
  const path = isRate ? metric.slice('rates.'.length) : metric;
  for (let i = isRate ? 1 : 0; i < samples.length; i++) {
    // A wall clock stepped back between two samples gives no rate for that pair (not an error).
    if (isRate && intervalSeconds(samples[i - 1], samples[i]) < 0) continue;
    const src = isRate ? computeRates(samples[i - 1], samples[i]) : samples[i];
    const v = valueAt(src, path);
    if (v === undefined) continue;
    values.push(v);
    at?.push(i);
    if (first < 0) first = isRate ? i - 1 : i;
    last = i;
  }
  const spanSeconds = first >= 0 && last > first ? intervalSeconds(samples[first], samples[last]) : 0;
  return { values, spanSeconds };
}

export function aggregate(samples: readonly RateInput[], metric: string): Aggregate {
  const { values, spanSeconds } = series(samples, metric);
  return summarize(values, spanSeconds);
}
