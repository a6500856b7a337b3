/**
 * A report's data from one or more recordings: per run, its hosts' columns (lib/report/host-series)
 * packed into blobs (the overview's headline series of every host in one, each host's detail in its
 * own, decoded when its view opens), fleet series on a common grid, markers, and each host's
 * `summary` figures. `renderReportHtml` puts it and the built UI into one self-contained page.
 */
import { basename } from 'node:path';
import type { TimeSeriesData } from '../models/data.js';
import type { TimeSeriesSample } from '../models/sample.js';
import { summarizeHostFigures, type HostFigures, type HostSummary } from '../cli/summary/host-summary.js';
import { HostPairs } from '../rates/host-pairs.js';
import { HEADLINE_METRICS } from '../cli/view/headline.js';
import type { Aggregate } from '../types/collector.js';
import { BlobBuilder } from './blob.js';
import { SeriesBuilder, type HostSeries } from './host-series.js';
import { sampleNs } from '../views/intervals.js';
import { markersOf } from './markers.js';
import type { AggregateView, HeadlineMeta, HostMeta, HostSummaryView, ReportMeta, RunMeta } from './report-data.js';

export interface ReportInput {
  /** The file, as the user named it. */
  file: string;
  data: TimeSeriesData;
  /** Things the reader said about the file (shown on the page). */
  warnings?: string[];
}

export interface ReportModel {
  meta: ReportMeta;
  /** Blob id → base64 gzip. */
  blobs: Map<string, string>;
}

/** The headline figures as the charts show them (units on the axis, fixed 0-100 for percentages). */
export const HEADLINE: HeadlineMeta[] = HEADLINE_METRICS.map((m) => {
  const meta: Record<string, { label: string; unit: string; yMax?: number }> = {
    disk_iops: { label: 'disk IOPS', unit: 'IOPS' },
    disk_read_mb_s: { label: 'disk read', unit: 'MB/s' },
    disk_write_mb_s: { label: 'disk write', unit: 'MB/s' },
    disk_util_max_pct: { label: 'disk %util (busiest disk)', unit: '%', yMax: 100 },
    net_rx_mb_s: { label: 'net rx', unit: 'MB/s' },
    net_tx_mb_s: { label: 'net tx', unit: 'MB/s' },
    cpu_busy_pct: { label: 'CPU busy', unit: '%', yMax: 100 },
    mem_used_pct: { label: 'memory used', unit: '%', yMax: 100 },
  };
  return { key: m.key, digits: m.digits, ...meta[m.key] };
});

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
const agg = (a: Aggregate): AggregateView => ({ avg: orNull(a.avg), min: orNull(a.min), max: orNull(a.max), p95: orNull(a.p95), count: a.count });

function summaryView(h: HostFigures): HostSummaryView {
  return {
    samples: h.samples, spanSeconds: h.spanSeconds, intervalSeconds: h.intervalSeconds ?? null, gaps: h.gaps,
    longestGapSeconds: h.longestGapSeconds, errorSamples: h.errorSamples,
    errors: Object.entries(h.errors).map(([source, e]) => ({ source, count: e.count, first: e.first })),
    disks: h.disks, otherDevices: h.otherDevices,
    metrics: Object.fromEntries(Object.entries(h.metrics).map(([k, a]) => [k, agg(a)])),
    processes: h.processes.map((p) => ({
      key: p.key, name: p.name, cpuAvg: orNull(p.cpuPct.avg), cpuP95: orNull(p.cpuPct.p95), cpuMax: orNull(p.cpuPct.max),
      peakRssMiB: p.peakRssKb / 1024, readMiB: p.readBytes === undefined ? null : p.readBytes / 1048576,
      writtenMiB: p.writeBytes === undefined ? null : p.writeBytes / 1048576, restarts: p.restarts,
    })),
    app: h.app.map((a) => ({ name: a.name, first: a.first, last: a.last, perSecond: a.perSecond ?? null })),
  };
}

function timeOrder(samples: readonly TimeSeriesSample[]): readonly TimeSeriesSample[] {
  for (let i = 1; i < samples.length; i++) if (sampleNs(samples[i]) < sampleNs(samples[i - 1])) return [...samples].sort((a, b) => sampleNs(a) - sampleNs(b));
  return samples;
}

/** What the fleet series read of a host's: its times and headline columns (not its detail, let go once in its blob). */
type HostHeadline = Pick<HostSeries, 't' | 'headline'>;

/** Fleet avg/min/max per headline key on a grid of the run's interval (hosts' samples rounded to it). */
function fleetSeries(series: readonly HostHeadline[], step: number, duration: number, blob: BlobBuilder): RunMeta['fleet'] {
  // (1e-6: 1.6 / 0.2 is 7.999… in floating point, and the last sample still has its grid point.)
  const n = Math.max(1, Math.floor(duration / step + 1e-6) + 1);
  const out: RunMeta['fleet'] = { t: blob.add(Array.from({ length: n }, (_, i) => i * step), 'f64') };
  for (const m of HEADLINE) {
    const sum = new Float64Array(n);
    const cnt = new Uint32Array(n);
    const min = new Float64Array(n).fill(Infinity);
    const max = new Float64Array(n).fill(-Infinity);
    for (const h of series) {
      const col = h.headline.get(m.key);
      if (!col) continue;
      for (let i = 0; i < h.t.length; i++) {
        const v = col[i];
        if (!Number.isFinite(v)) continue;
        const g = Math.min(n - 1, Math.max(0, Math.round(h.t[i] / step)));
        sum[g] += v;
        cnt[g]++;
        if (v < min[g]) min[g] = v;
        if (v > max[g]) max[g] = v;
      }
    }
    out[`${m.key}.avg`] = blob.add(Array.from(sum, (s, i) => (cnt[i] ? s / cnt[i] : NaN)));
    out[`${m.key}.min`] = blob.add(Array.from(min, (v, i) => (cnt[i] ? v : NaN)));
    out[`${m.key}.max`] = blob.add(Array.from(max, (v, i) => (cnt[i] ? v : NaN)));
  }
  return out;
}

export function buildReportModel(inputs: readonly ReportInput[], title?: string): ReportModel {
  const blobs = new Map<string, string>();
  const runs: RunMeta[] = [];
  const hosts: HostMeta[] = [];
  inputs.forEach((input, runId) => {
    const d = input.data;
    const byHost = [...new Set([...d.hostsRequested, ...d.samplesByHost.keys()])].map((h) => [h, timeOrder(d.samplesByHost.get(h) ?? [])] as const);
    let startNs = Infinity;
    let endNs = -Infinity;
    for (const [, s] of byHost) if (s.length > 0) {
      startNs = Math.min(startNs, sampleNs(s[0]));
      endNs = Math.max(endNs, sampleNs(s[s.length - 1]));
    }
    if (!Number.isFinite(startNs)) startNs = endNs = Date.parse(d.startTime) * 1e6 || 0;
    const duration = (endNs - startNs) / 1e9;
    const overview = new BlobBuilder();
    const series: HostHeadline[] = [];
    const summaries: HostFigures[] = [];
    const warnings = [...(input.warnings ?? [])];
    for (const [name, samples] of byHost) {
      // Rates and headline figures once, for the series and the summary both.
      const pairs = new HostPairs(samples, d.collectionIntervalSeconds, 'report');
      const builder = new SeriesBuilder(pairs, startNs, d.collectionIntervalSeconds);
      pairs.compute((i, r, h) => builder.add(i, r, h));
      const hs = builder.finish();
      const summary = summarizeHostFigures(name, samples, d.collectionIntervalSeconds, pairs);
      warnings.push(...summary.warnings);
      series.push({ t: hs.t, headline: hs.headline });
      summaries.push(summary);
      const ov: HostMeta['overview'] = { t: overview.add(hs.t, 'f64') };
      for (const [k, col] of hs.headline) ov[k] = overview.add(col);
      const detail = new BlobBuilder();
      const det: HostMeta['detail'] = { t: detail.add(hs.t, 'f64') };
      for (const [k, col] of hs.detail) det[k] = detail.add(col);
      const id = hosts.length;
      const detailBlob = `h${id}`;
      blobs.set(detailBlob, detail.encode());
      hosts.push({
        id, run: runId, name, samples: samples.length, overview: ov, detailBlob, detail: det, charts: hs.charts,
        summary: summaryView(summary), idleInterfaces: hs.idleInterfaces,
      });
    }
    const step = d.collectionIntervalSeconds > 0 ? d.collectionIntervalSeconds : (summaries.find((s) => s.intervalSeconds)?.intervalSeconds ?? 1);
    const fleetBlob = new BlobBuilder();
    const fleet = fleetSeries(series, step, duration, fleetBlob);
    blobs.set(`f${runId}`, fleetBlob.encode());
    const fleetSummary: RunMeta['fleetSummary'] = {};
    for (const m of HEADLINE) {
      let sum = 0;
      let n = 0;
      for (const h of series) for (const v of h.headline.get(m.key) ?? []) if (Number.isFinite(v)) {
        sum += v;
        n++;
      }
      const avgs = summaries.map((s) => [s.host, s.metrics[m.key as keyof HostSummary['metrics']].avg] as const).filter(([, v]) => Number.isFinite(v));
      const lo = avgs.reduce<readonly [string, number] | null>((a, b) => (a === null || b[1] < a[1] ? b : a), null);
      const hi = avgs.reduce<readonly [string, number] | null>((a, b) => (a === null || b[1] > a[1] ? b : a), null);
      fleetSummary[m.key] = { avg: n > 0 ? sum / n : null, minHost: lo?.[0] ?? null, minAvg: lo?.[1] ?? null, maxHost: hi?.[0] ?? null, maxAvg: hi?.[1] ?? null };
    }
    const overviewBlob = `o${runId}`;
    blobs.set(overviewBlob, overview.encode());
    runs.push({
      id: runId, file: input.file, startMs: startNs / 1e6, durationSeconds: duration, intervalSeconds: d.collectionIntervalSeconds,
      collectionMethod: d.collectionMethod, overviewBlob, fleetBlob: `f${runId}`, fleet, fleetSummary, markers: markersOf(d, startNs), warnings,
    });
  });
  const meta: ReportMeta = {
    format: 'hostseries-report', version: 1,
    title: title ?? `hostseries report: ${inputs.map((i) => basename(i.file)).join(', ')}`,
    generatedAt: new Date().toISOString(), headline: HEADLINE, runs, hosts,
  };
  return { meta, blobs };
}
