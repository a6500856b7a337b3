/**
 * What `export` writes, sample by sample (or interval by interval with --rates), read from the
 * recording as a stream: one host's previous sample is all that is kept.
 */
import { computeRates } from '../../rates/compute.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import { hasData, sampleNs, type TimeWindow } from '../../views/intervals.js';
import { rateMetrics, rawMetrics, type Value } from '../../views/metrics.js';
import { streamRecording } from '../../views/stream.js';
import type { Marker } from '../../types/markers.js';

export interface ExportRow {
  host: string;
  ns: number;
  /** section, entity, field, value */
  values: [string, string, string, Value][];
  /** The sample itself (raw rows), for what names its values another way (OpenMetrics). */
  sample?: TimeSeriesSample;
}

export interface RowOptions {
  rates: boolean;
  /** The window of each host (all time when undefined). */
  window?: (host: string) => TimeWindow;
  /** Told of what could not be read or paired (a skipped line, samples out of order). */
  warn: (message: string) => void;
}

export async function* exportRows(path: string, o: RowOptions): AsyncGenerator<ExportRow> {
  let nominal = 0;
  const prev = new Map<string, { s: TimeSeriesSample; tick: number }>();
  const ticks = new Map<string, number>();
  for await (const item of streamRecording(path)) {
    if (item.kind === 'interval') nominal = item.seconds;
    else if (item.kind === 'skipped') o.warn(`${path} line ${item.line} skipped: ${item.message}`);
    if (item.kind !== 'sample') continue;
    const { host, sample } = item;
    const tick = (ticks.get(host) ?? -1) + 1;
    ticks.set(host, tick);
    if (!hasData(sample)) continue;
    const ns = sampleNs(sample);
    const w = o.window?.(host);
    if (w && ((w.fromNs !== undefined && ns < w.fromNs) || (w.toNs !== undefined && ns > w.toNs))) continue;
    const values: ExportRow['values'] = [];
    if (!o.rates) {
      rawMetrics(sample, (a, b, c, v) => values.push([a, b, c, v]));
      yield { host, ns, values, sample };
      continue;
    }
    const p = prev.get(host);
    prev.set(host, { s: sample, tick });
    if (!p) continue;
    if (sampleNs(p.s) > ns) {
      o.warn(`${path}: ${host}: a sample at ${sample.timestamp} comes after one at ${p.s.timestamp}; no rates across them`);
      continue;
    }
    const r = computeRates(p.s, sample, nominal > 0 ? { nominalSeconds: (tick - p.tick) * nominal } : {});
    rateMetrics(r, (a, b, c, v) => values.push([a, b, c, v]));
    yield { host, ns, values };
  }
}

/** Markers and the run's start (first sample with data), from a first pass. */
export async function scanRecording(path: string, collect?: (row: ExportRow) => void, o?: RowOptions): Promise<{ markers: Marker[]; startNs: number }> {
  const markers: Marker[] = [];
  let startNs = Number.NaN;
  for await (const item of streamRecording(path)) {
    if (item.kind === 'marker') markers.push(item.marker);
    else if (item.kind === 'sample' && hasData(item.sample) && !(sampleNs(item.sample) >= startNs)) startNs = sampleNs(item.sample);
  }
  if (collect && o) for await (const row of exportRows(path, { ...o, warn: () => undefined })) collect(row);
  markers.sort((a, b) => a.timestamp_ns - b.timestamp_ns);
  return { markers, startNs };
}
