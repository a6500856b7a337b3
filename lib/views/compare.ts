/**
 * Two runs (or two hosts of one run) side by side: each headline metric's aggregates on both
 * sides and the change in %, and a timeline aligned by time since each side's start.
 */
import { summarize } from '../collector/aggregate.js';
import { HostseriesError } from '../errors.js';
import { wholeDisks } from '../cli/view/devices.js';
import { HEADLINE_METRICS, headline, type Headline, type HeadlineKey } from '../cli/view/headline.js';
import type { TimeSeriesSample } from '../models/sample.js';
import type { Aggregate } from '../types/collector.js';
import { intervals, type TimeWindow } from './intervals.js';

/** The two sides have no metric in common (different `-m` sections, or no data on one side). */
export class NothingToCompareError extends HostseriesError {
  constructor(message: string) {
    super('ERR_NOTHING_TO_COMPARE', message);
  }
}

export interface Side {
  /** How to name it: `a.json host node1`. */
  name: string;
  points: { elapsedSeconds: number; values: Headline }[];
  metrics: Record<HeadlineKey, Aggregate>;
  spanSeconds: number;
  intervalSeconds: number;
}

export function side(name: string, samples: readonly TimeSeriesSample[], nominalInterval: number, window?: TimeWindow): Side {
  const list = intervals(samples, { nominalInterval, window });
  const names = new Set<string>();
  for (const i of list) for (const d of i.cur.diskstats ?? []) names.add(d.device_name);
  const disks = wholeDisks([...names]);
  const first = list.length > 0 ? list[0].elapsedSeconds - list[0].rates.intervalSeconds : 0;
  const points = list.map((i) => ({ elapsedSeconds: i.elapsedSeconds - first, values: headline(i.rates, disks) }));
  const span = points.length > 0 ? points[points.length - 1].elapsedSeconds : 0;
  const metrics = Object.fromEntries(HEADLINE_METRICS.map((m) => [m.key, summarize(points.map((p) => p.values[m.key]).filter((v): v is number => v !== undefined), span)])) as Record<HeadlineKey, Aggregate>;
  const steps = list.map((i) => i.rates.intervalSeconds).sort((a, b) => a - b);
  return { name, points, metrics, spanSeconds: span, intervalSeconds: steps.length > 0 ? steps[steps.length >> 1] : 0 };
}

export interface MetricChange {
  key: HeadlineKey;
  label: string;
  digits: number;
  a: Aggregate;
  b: Aggregate;
  /** (B − A) / A of the averages, %; 0 when both are 0; undefined when A is 0 and B not, or a side has no value. */
  changePct: number | undefined;
}

export function changePct(a: number, b: number): number | undefined {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  if (a === b) return 0;
  return a === 0 ? undefined : ((b - a) / Math.abs(a)) * 100;
}

export interface TimelineRow {
  /** The bucket's end, seconds since each side's start. */
  toSeconds: number;
  a: Headline;
  b: Headline;
}

export interface Comparison {
  a: Side;
  b: Side;
  metrics: MetricChange[];
  timeline: TimelineRow[];
  bucketSeconds: number;
}

function bucketAverages(points: Side['points'], width: number, n: number): Headline[] {
  const sums = Array.from({ length: n }, () => new Map<HeadlineKey, { s: number; c: number }>());
  for (const p of points) {
    // Rounded, not floored: sample times jitter around the interval's multiples.
    const k = Math.min(n - 1, Math.max(0, Math.round(p.elapsedSeconds / width) - 1));
    for (const [key, v] of Object.entries(p.values) as [HeadlineKey, number][]) {
      const e = sums[k].get(key) ?? { s: 0, c: 0 };
      e.s += v;
      e.c++;
      sums[k].set(key, e);
    }
  }
  return sums.map((m) => Object.fromEntries([...m].map(([k, { s, c }]) => [k, s / c])) as Headline);
}

/** Compare; throws NothingToCompareError when no metric has values on both sides. */
export function compare(a: Side, b: Side, maxRows = 20): Comparison {
  const metrics = HEADLINE_METRICS.map((m) => ({
    key: m.key, label: m.label, digits: m.digits, a: a.metrics[m.key], b: b.metrics[m.key], changePct: changePct(a.metrics[m.key].avg, b.metrics[m.key].avg),
  }));
  if (!metrics.some((m) => m.a.count > 0 && m.b.count > 0)) {
    const has = (s: Side): string => HEADLINE_METRICS.filter((m) => s.metrics[m.key].count > 0).map((m) => m.label).join(', ') || 'no rates at all';
    throw new NothingToCompareError(`nothing to compare: ${a.name} and ${b.name} share no metric (${a.name}: ${has(a)}; ${b.name}: ${has(b)})`);
  }
  const span = Math.max(a.spanSeconds, b.spanSeconds);
  const width = Math.max(a.intervalSeconds, b.intervalSeconds, span / maxRows) || 1;
  const n = Math.max(1, Math.round(span / width));
  const ba = bucketAverages(a.points, width, n);
  const bb = bucketAverages(b.points, width, n);
  const timeline = ba.map((x, k) => ({ toSeconds: (k + 1) * width, a: x, b: bb[k] }));
  return { a, b, metrics, timeline, bucketSeconds: width };
}
