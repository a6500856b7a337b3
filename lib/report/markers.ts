/**
 * A recording's markers (command start/end, `mark()` labels) as seconds since the run started.
 * The file's top-level `markers: [{label, timestamp, timestamp_ns, host?}]`; read from the model
 * where it carries them, and nothing when the recording has none.
 */
import type { TimeSeriesData } from '../models/data.js';
import type { MarkerView } from './report-data.js';

interface MarkerLike {
  label?: unknown;
  timestamp?: unknown;
  timestamp_ns?: unknown;
  timestampNs?: unknown;
  host?: unknown;
}

export function markersOf(data: TimeSeriesData, startNs: number): MarkerView[] {
  const list = (data as unknown as { markers?: unknown }).markers;
  if (!Array.isArray(list)) return [];
  const out: MarkerView[] = [];
  for (const m of list as MarkerLike[]) {
    if (typeof m !== 'object' || m === null) continue;
    const ns = m.timestamp_ns ?? m.timestampNs;
    const at = typeof ns === 'number' || typeof ns === 'bigint' ? Number(ns) : typeof m.timestamp === 'string' ? Date.parse(m.timestamp) * 1e6 : NaN;
    if (!Number.isFinite(at)) continue;
    const v: MarkerView = { label: typeof m.label === 'string' ? m.label : '', t: (at - startNs) / 1e9 };
    if (typeof m.host === 'string' && m.host !== '') v.host = m.host;
    out.push(v);
  }
  return out.sort((a, b) => a.t - b.t);
}
