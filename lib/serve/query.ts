/**
 * The read API's queries over the store: the values of one path (a sample value read from the
 * stored columns; a rate by its formula over the columns of only its inputs (rate-inputs.ts), or
 * through the collector's own `series()` over samples decoded with only the sections it needs),
 * bucketed by step, or summarized as `aggregate()` does.
 */
import { checkPath, sectionsOf, series, summarize } from '../collector/aggregate.js';
import { InvalidOptionError } from '../errors.js';
import type { Aggregate } from '../types/collector.js';
import type { RateInput } from '../types/rates.js';
import type { SampleDict } from '../types/sample.js';
import { HttpError } from './body.js';
import { rateRecipe, rateSeries } from './rate-inputs.js';
import type { Points, SampleStore } from './store/store.js';
import type { Window } from './time.js';

/** `path` checked as `aggregate()` checks it; 400 naming the parameter. */
export function checkedPath(path: string): string {
  try {
    return checkPath(path);
  } catch (e) {
    if (e instanceof InvalidOptionError) throw new HttpError(400, `path: ${e.message}`);
    throw e;
  }
}

const wallOf = (d: RateInput): number => {
  const ns = d.timestamp_ns ?? d.timestampNs;
  return ns != null ? Number(ns) : Date.parse(d.timestamp) * 1e6;
};

/**
 * Drop from decoded samples the devices, interfaces, processes and CPUs a `rates.` path does not
 * name, so that `computeRates` works out only the one it asks for (measured: an hour of
 * rates.disk.sda.util on a host with 20 loop devices, 240 ms → a tenth of it). The rates of what
 * is kept are the same.
 */
function narrow(samples: SampleDict[], path: string): void {
  const [, section, ...rest] = path.split('.');
  const tail = rest.join('.');
  const named = (name: string): boolean => tail === name || tail.startsWith(`${name}.`);
  for (const s of samples) {
    if (section === 'disk' && s.diskstats) s.diskstats = s.diskstats.filter((e) => named(e.device_name));
    else if (section === 'net' && s.netdev) s.netdev = s.netdev.filter((e) => named(e.interface_name));
    else if (section === 'proc' && s.processes) s.processes = s.processes.filter((e) => named(e.key));
    else if (section === 'cpu' && s.stat) {
      const cpus: typeof s.stat.cpus = {};
      for (const [name, t] of Object.entries(s.stat.cpus)) if (named(name)) cpus[name] = t;
      s.stat.cpus = cpus;
    }
  }
}

/** Points and the span they cover, as `series()` tells it (a rate's from the earlier sample of its pair). */
export interface PathPoints extends Points {
  spanSeconds: number;
}

const spanOf = (p: Points): number => (p.timesNs.length > 1 ? (p.timesNs[p.timesNs.length - 1] - p.timesNs[0]) / 1e9 : 0);

/** The values of `path` (checked) for `host` in the window, each with its wall time. */
export async function pathPoints(store: SampleStore, host: string, w: Window, path: string): Promise<PathPoints> {
  if (!path.startsWith('rates.') && !path.startsWith('collectors.')) {
    const p = await store.points(host, w.fromNs, w.toNs, path);
    return { ...p, spanSeconds: spanOf(p) };
  }
  const recipe = path.startsWith('rates.') ? rateRecipe(path) : undefined;
  if (recipe) return rateSeries(await store.table(host, w.fromNs, w.toNs, recipe.paths), recipe);
  // Processes, app counters, collectors: the sections the path needs, decoded.
  const samples = await store.window(host, w.fromNs, w.toNs, sectionsOf(path));
  if (path.startsWith('rates.')) narrow(samples, path);
  const at: number[] = [];
  const { values, spanSeconds } = series(samples, path, at);
  return { timesNs: at.map((i) => wallOf(samples[i])), values, spanSeconds };
}

export interface Bucket {
  /** The bucket's start (ns since the epoch). */
  startNs: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

/** Buckets of `stepNs` from `fromNs` (only those with values), avg/min/max/count of each. */
export function buckets(p: Points, fromNs: number, stepNs: number): Bucket[] {
  const out: Bucket[] = [];
  let cur: Bucket | undefined;
  let sum = 0;
  let k = -1;
  for (let i = 0; i < p.values.length; i++) {
    const b = Math.floor((p.timesNs[i] - fromNs) / stepNs);
    const v = p.values[i];
    if (b !== k || !cur) {
      if (cur) cur.avg = Math.min(cur.max, Math.max(cur.min, sum / cur.count));
      k = b;
      cur = { startNs: fromNs + b * stepNs, avg: 0, min: v, max: v, count: 0 };
      sum = 0;
      out.push(cur);
    }
    cur.count++;
    sum += v;
    if (v < cur.min) cur.min = v;
    if (v > cur.max) cur.max = v;
  }
  if (cur) cur.avg = Math.min(cur.max, Math.max(cur.min, sum / cur.count));
  return out;
}

/** `aggregate()`'s summary of points: count, span, avg, min, max, p95. */
export function summary(p: PathPoints): Aggregate {
  return summarize(p.values, p.spanSeconds);
}

/** Buckets at most (a step that gives more is refused). */
export const MAX_BUCKETS = 10_000;
/** The default step keeps to this many buckets or fewer. */
export const DEFAULT_BUCKETS = 1000;

/** The step in ns: the one asked for (checked), or the smallest whole second giving ≤ 1000 buckets. */
export function stepNsOf(stepMs: number | undefined, w: Window): number {
  const span = Number(w.toNs - w.fromNs);
  if (stepMs === undefined) return Math.max(1, Math.ceil(span / 1e9 / DEFAULT_BUCKETS)) * 1e9;
  if (!(stepMs > 0)) throw new HttpError(400, 'step: must be more than 0');
  const stepNs = stepMs * 1e6;
  if (span / stepNs > MAX_BUCKETS) throw new HttpError(400, `step: ${span / stepNs > 1e9 ? 'too many' : Math.ceil(span / stepNs)} buckets in the window; at most ${MAX_BUCKETS} (a longer step or a shorter window)`);
  return stepNs;
}
