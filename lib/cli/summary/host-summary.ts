/** Per-host summary of a recording: coverage (samples, span, interval, gaps, errors) and headline aggregates. */
import { summarize } from '../../collector/aggregate.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import { intervalSeconds } from '../../rates/compute.js';
import { HostPairs } from '../../rates/host-pairs.js';
import { uncountedDevices } from '../view/devices.js';
import { HEADLINE_METRICS, ioCount, type HeadlineKey } from '../view/headline.js';
import type { Aggregate } from '../../types/collector.js';
import type { DiskstatsEntry } from '../../types/sample.js';
import { setOwn } from '../../json/own.js';
import { summarizeApp, summarizeProcesses, type AppSummary, type ProcessSummary } from './process-summary.js';
import { DetailCollector, type Details } from './detail-summary.js';
import { sampleNs } from '../../views/intervals.js';

export interface HostSummary {
  host: string;
  samples: number;
  /** Seconds from the first sample to the last. */
  spanSeconds: number;
  /** Median seconds between consecutive samples (undefined with fewer than two). */
  intervalSeconds: number | undefined;
  /** Holes in the data: consecutive samples with data more than 1.5 intervals apart. */
  gaps: number;
  longestGapSeconds: number;
  /** Samples carrying an error (a host down, a /proc file unreadable), by source. */
  errorSamples: number;
  errors: Record<string, { count: number; first: string }>;
  /** The devices the disk figures add up: physical disks. */
  disks: string[];
  /** Devices that did I/O but are not in the totals (loop, zram, dm, md: their I/O is also a disk's, or memory). */
  otherDevices: string[];
  /** Samples whose time is before the one before them in the file (summarised in time order). */
  outOfOrder: number;
  /** Things worth saying about the data (out-of-order samples), one line each. */
  warnings: string[];
  /** The watched processes (empty when none were watched). */
  processes: ProcessSummary[];
  /** Application counters and gauges. */
  app: AppSummary[];
  metrics: Record<HeadlineKey, Aggregate>;
  /** Per disk latency, queue and %util; iowait, steal and the hot core; the busiest intervals. */
  details: Details;
}



function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A device's reads + writes completed: a number while exact, else a bigint (so `!==` compares exactly). */
function ioTotal(d: DiskstatsEntry): number | bigint {
  const r = d.reads_completed;
  const w = d.writes_completed;
  if (typeof r === 'number' && typeof w === 'number' && Number.isSafeInteger(r + w)) return r + w;
  const n = ioCount(d);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/**
 * Devices that completed any I/O between their first and last appearance. A sample whose devices
 * are the previous one's, in the same order (nearly every one), is compared by position with the
 * first values of those names, looked up once (measured: this was 5% of a report build by name).
 */
function devicesWithIo(samples: readonly TimeSeriesSample[]): Set<string> {
  const first = new Map<string, number | bigint>();
  const out = new Set<string>();
  let prev: DiskstatsEntry[] | undefined;
  let firsts: (number | bigint)[] = [];
  for (const s of samples) {
    const ds = s.diskstats;
    if (!ds) continue;
    let lined = prev !== undefined && prev.length === ds.length;
    for (let j = 0; lined && j < ds.length; j++) lined = ds[j].device_name === prev![j].device_name;
    if (lined) {
      for (let j = 0; j < ds.length; j++) if (ioTotal(ds[j]) !== firsts[j]) out.add(ds[j].device_name);
    } else {
      for (const d of ds) {
        const n = ioTotal(d);
        const f = first.get(d.device_name);
        if (f === undefined) first.set(d.device_name, n);
        else if (n !== f) out.add(d.device_name);
      }
      firsts = ds.map((d) => first.get(d.device_name)!);
    }
    prev = ds;
  }
  return out;
}

/** The devices left out of the totals that did I/O (see uncountedDevices). */
function otherDevicesOf(p: { data: readonly TimeSeriesSample[]; diskNames: readonly string[] }): string[] {
  const io = devicesWithIo(p.data);
  return uncountedDevices(p.diskNames, (n) => io.has(n));
}

/** The samples in time order (stable: equal whole-second stamps keep their file order), and how many were out of it. */
function timeOrdered(inFileOrder: readonly TimeSeriesSample[]): { samples: readonly TimeSeriesSample[]; outOfOrder: number } {
  let outOfOrder = 0;
  for (let i = 1; i < inFileOrder.length; i++) if (sampleNs(inFileOrder[i]) < sampleNs(inFileOrder[i - 1])) outOfOrder++;
  return { samples: outOfOrder === 0 ? inFileOrder : [...inFileOrder].sort((a, b) => sampleNs(a) - sampleNs(b)), outOfOrder };
}

/**
 * Summarise one host's samples. `nominalInterval` is the file's `collection_interval_seconds`:
 * where samples carry only whole-second timestamps (mlpstorage files) it times each pair, as the
 * timestamps cannot (one tick per sample, error samples included, as mlpstorage takes them).
 */
export function summarizeHost(host: string, inFileOrder: readonly TimeSeriesSample[], nominalInterval: number): HostSummary {
  const pairs = new HostPairs(timeOrdered(inFileOrder).samples, nominalInterval);
  const detail = new DetailCollector([...pairs.disks, ...otherDevicesOf(pairs)], pairs.disks);
  pairs.compute((i, r, h) => {
    if (i > 0) detail.add(r, sampleNs(pairs.data[i]), h);
  });
  const { metrics, processes, app, ...coverage } = summarizeHostFigures(host, inFileOrder, nominalInterval, pairs);
  return { ...coverage, metrics, details: detail.result(coverage.spanSeconds), processes, app };
}

/** A host's summary without its `details` (what the report shows). */
export type HostFigures = Omit<HostSummary, 'details'>;

/**
 * `summarizeHost` but its details, from `pairs`: the same samples' HostPairs in time order, of
 * scope `report` at least, computed (made here when not given).
 */
export function summarizeHostFigures(host: string, inFileOrder: readonly TimeSeriesSample[], nominalInterval: number, pairs?: HostPairs): HostFigures {
  const { samples, outOfOrder } = timeOrdered(inFileOrder);
  const warnings = outOfOrder === 0 ? [] : [`${host}: ${outOfOrder} sample${outOfOrder === 1 ? ' is' : 's are'} out of time order in the file (summarised in time order)`];
  const nominal = (ticks: number): { nominalSeconds?: number } => (nominalInterval > 0 ? { nominalSeconds: ticks * nominalInterval } : {});

  const errors: HostSummary['errors'] = {};
  let errorSamples = 0;
  for (const s of samples) {
    if (s.errors === undefined) continue;
    const entries = Object.entries(s.errors);
    if (entries.length > 0) errorSamples++;
    for (const [source, message] of entries) {
      const e = Object.hasOwn(errors, source) ? errors[source] : undefined;
      if (e) e.count++;
      else setOwn(errors, source, { count: 1, first: message });
    }
  }
  const steps: number[] = [];
  const one = nominal(1);
  for (let i = 1; i < samples.length; i++) steps.push(intervalSeconds(samples[i - 1], samples[i], one));
  const interval = median(steps);
  const spanSeconds = samples.length > 1 ? intervalSeconds(samples[0], samples[samples.length - 1], nominal(samples.length - 1)) : 0;

  const p = pairs ?? new HostPairs(samples, nominalInterval, 'report').compute();
  const { data, disks, intervals, headline } = p;
  const otherDevices = otherDevicesOf(p);

  const values = HEADLINE_METRICS.map(() => [] as number[]);
  const expected = nominalInterval > 0 ? nominalInterval : (interval ?? 0);
  let gaps = 0;
  let longestGapSeconds = 0;
  for (let i = 0; i < data.length; i++) {
    // Rates pair each sample with the previous one that has data: a hole widens the interval, the average stays right.
    for (let k = 0; k < HEADLINE_METRICS.length; k++) {
      const v = headline[k][i];
      if (!Number.isNaN(v) && (i > 0 || HEADLINE_METRICS[k].key === 'mem_used_pct')) values[k].push(v);
    }
    const dt = intervals[i];
    if (i > 0 && expected > 0 && dt > 1.5 * expected) {
      gaps++;
      longestGapSeconds = Math.max(longestGapSeconds, dt);
    }
  }
  const metrics = Object.fromEntries(HEADLINE_METRICS.map((m, k) => [m.key, summarize(values[k], spanSeconds)])) as Record<HeadlineKey, Aggregate>;
  return {
    host, samples: samples.length, spanSeconds, intervalSeconds: interval, gaps, longestGapSeconds, errorSamples, errors,
    disks, otherDevices, outOfOrder, warnings, metrics, processes: summarizeProcesses(data, spanSeconds), app: summarizeApp(data, spanSeconds),
  };
}
