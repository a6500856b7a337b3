/** Per-host summary of a recording: coverage (samples, span, interval, gaps, errors) and headline aggregates. */
import { summarize } from '../../collector/aggregate.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import { computeRates, intervalSeconds } from '../../rates/compute.js';
import { uncountedDevices, wholeDisks } from '../view/devices.js';
import { HEADLINE_METRICS, headline, ioCount, type HeadlineKey } from '../view/headline.js';
import type { Aggregate } from '../../types/collector.js';
import { setOwn } from '../../json/own.js';
import { summarizeApp, summarizeProcesses, type AppSummary, type ProcessSummary } from './process-summary.js';
import { DetailCollector, type Details } from './detail-summary.js';
import { dataTicks, sampleNs } from '../../views/intervals.js';

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

/** Devices that completed any I/O between their first and last appearance. */
function devicesWithIo(samples: readonly TimeSeriesSample[]): Set<string> {
  const first = new Map<string, bigint>();
  const out = new Set<string>();
  for (const s of samples) {
    for (const d of s.diskstats ?? []) {
      const n = ioCount(d);
      const f = first.get(d.device_name);
      if (f === undefined) first.set(d.device_name, n);
      else if (n !== f) out.add(d.device_name);
    }
  }
  return out;
}

/**
 * Summarise one host's samples. `nominalInterval` is the file's `collection_interval_seconds`:
 * where samples carry only whole-second timestamps (mlpstorage files) it times each pair, as the
 * timestamps cannot (one tick per sample, error samples included, as mlpstorage takes them).
 */
export function summarizeHost(host: string, inFileOrder: readonly TimeSeriesSample[], nominalInterval: number): HostSummary {
  // Time order (stable: equal whole-second stamps keep their file order); say what was out of it.
  let outOfOrder = 0;
  for (let i = 1; i < inFileOrder.length; i++) if (sampleNs(inFileOrder[i]) < sampleNs(inFileOrder[i - 1])) outOfOrder++;
  const samples = outOfOrder === 0 ? inFileOrder : [...inFileOrder].sort((a, b) => sampleNs(a) - sampleNs(b));
  const warnings = outOfOrder === 0 ? [] : [`${host}: ${outOfOrder} sample${outOfOrder === 1 ? ' is' : 's are'} out of time order in the file (summarised in time order)`];
  const nominal = (ticks: number): { nominalSeconds?: number } => (nominalInterval > 0 ? { nominalSeconds: ticks * nominalInterval } : {});

  const errors: HostSummary['errors'] = {};
  let errorSamples = 0;
  for (const s of samples) {
    const entries = Object.entries(s.errors ?? {});
    if (entries.length > 0) errorSamples++;
    for (const [source, message] of entries) {
      const e = Object.hasOwn(errors, source) ? errors[source] : undefined;
      if (e) e.count++;
      else setOwn(errors, source, { count: 1, first: message });
    }
  }
  const steps: number[] = [];
  for (let i = 1; i < samples.length; i++) steps.push(intervalSeconds(samples[i - 1], samples[i], nominal(1)));
  const interval = median(steps);
  const spanSeconds = samples.length > 1 ? intervalSeconds(samples[0], samples[samples.length - 1], nominal(samples.length - 1)) : 0;

  const { data, ticks, diskNames: names } = dataTicks(samples);
  const io = devicesWithIo(data);
  const disks = wholeDisks(names);
  const otherDevices = uncountedDevices(names, (n) => io.has(n));

  const values = Object.fromEntries(HEADLINE_METRICS.map((m) => [m.key, [] as number[]])) as Record<HeadlineKey, number[]>;
  const expected = nominalInterval > 0 ? nominalInterval : (interval ?? 0);
  let gaps = 0;
  let longestGapSeconds = 0;
  const detail = new DetailCollector([...disks, ...otherDevices], disks);
  for (let i = 0; i < data.length; i++) {
    // Rates pair each sample with the previous one that has data: a hole widens the interval, the average stays right.
    const r = computeRates(i > 0 ? data[i - 1] : data[i], data[i], i > 0 ? nominal(ticks[i] - ticks[i - 1]) : {});
    if (i > 0) detail.add(r, sampleNs(data[i]));
    const h = headline(r, disks);
    for (const m of HEADLINE_METRICS) {
      const v = h[m.key];
      if (v !== undefined && (i > 0 || m.key === 'mem_used_pct')) values[m.key].push(v);
    }
    if (i > 0 && expected > 0 && r.intervalSeconds > 1.5 * expected) {
      gaps++;
      longestGapSeconds = Math.max(longestGapSeconds, r.intervalSeconds);
    }
  }
  const metrics = Object.fromEntries(HEADLINE_METRICS.map((m) => [m.key, summarize(values[m.key], spanSeconds)])) as Record<HeadlineKey, Aggregate>;
  return {
    host, samples: samples.length, spanSeconds, intervalSeconds: interval, gaps, longestGapSeconds, errorSamples, errors,
    disks, otherDevices, outOfOrder, warnings, metrics, details: detail.result(spanSeconds),
    processes: summarizeProcesses(data, spanSeconds), app: summarizeApp(data, spanSeconds),
  };
}
