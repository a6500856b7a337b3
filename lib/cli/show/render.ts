/** `show`'s output: aligned text tables per host and section (or interleaved by time), or JSON. */
import { SECTION_DEFS, type Section } from '../../views/columns.js';
import { clockDigits, clockTime, fixed, groupedTable } from '../../views/layout.js';
import type { IntervalRow } from '../../views/rows.js';
import { duration } from '../view/format.js';
import type { Marker } from '../../types/markers.js';

export interface HostRows {
  host: string;
  samples: number;
  rows: Map<Section, IntervalRow[]>;
  /** The run's markers that apply to this host. */
  markers: readonly Marker[];
}

function markerLine(markers: readonly Marker[]): string[] {
  if (markers.length === 0) return [];
  return [`markers: ${markers.map((m) => `${m.label} ${clockTime(m.timestamp_ns, 3)}`).join(', ')}`];
}

function minInterval(rows: readonly IntervalRow[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const r of rows) if (r.intervalSeconds > 0 && r.intervalSeconds < m) m = r.intervalSeconds;
  return m;
}

function medianInterval(rows: readonly IntervalRow[]): number {
  const s = rows.map((r) => r.intervalSeconds).sort((a, b) => a - b);
  return s[s.length >> 1];
}

function sectionTable(section: Section, rows: readonly IntervalRow[], width: number, withHost: boolean): string[] {
  const def = SECTION_DEFS[section];
  const digits = clockDigits(minInterval(rows));
  const keyHeads = ['time UTC', ...(withHost ? ['host'] : []), ...(def.entityHead ? [def.entityHead] : [])];
  const cells = rows.map((r) => [
    clockTime(r.endNs, digits),
    ...(withHost ? [r.host] : []),
    ...(def.entityHead ? [r.entity] : []),
    ...r.values.map((v, i) => fixed(v, def.columns[i].digits)),
  ]);
  return groupedTable({ keyHeads, valueHeads: def.columns.map((c) => c.head), rows: cells }, width);
}

export function hostsAfterEachOther(hosts: readonly HostRows[], sections: readonly Section[], width: number): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const n = h.rows.get(sections[0])?.length ?? 0;
    if (out.length > 0) out.push('');
    const all = sections.flatMap((s) => h.rows.get(s) ?? []);
    const iv = all.length > 0 ? `, intervals of ${duration(medianInterval(all))}` : '';
    out.push(`== ${h.host}: ${h.samples} sample${h.samples === 1 ? '' : 's'}${iv}${n === 0 && all.length === 0 ? ' (no intervals with data to show)' : ''}`, ...markerLine(h.markers));
    for (const s of sections) {
      const rows = h.rows.get(s) ?? [];
      if (rows.length === 0) continue;
      out.push('', SECTION_DEFS[s].title, ...sectionTable(s, rows, width, false));
    }
  }
  return out;
}

/** One table per section over every host, rows in time order (hosts in their order at equal times). */
export function interleavedByTime(hosts: readonly HostRows[], sections: readonly Section[], width: number): string[] {
  const out: string[] = [];
  for (const s of sections) {
    const rows = hosts.flatMap((h, hi) => (h.rows.get(s) ?? []).map((r, i) => ({ r, hi, i })));
    rows.sort((a, b) => a.r.endNs - b.r.endNs || a.hi - b.hi || a.i - b.i);
    if (rows.length === 0) continue;
    if (out.length > 0) out.push('');
    out.push(SECTION_DEFS[s].title, ...sectionTable(s, rows.map((x) => x.r), width, true));
  }
  if (out.length === 0) out.push('no intervals with data to show');
  return out;
}

export function rowsAsJson(file: string, hosts: readonly HostRows[], sections: readonly Section[]): unknown {
  return {
    file,
    hosts: hosts.map((h) => ({ host: h.host, samples: h.samples, markers: h.markers })),
    sections: Object.fromEntries(sections.map((s) => [s, {
      title: SECTION_DEFS[s].title,
      columns: SECTION_DEFS[s].columns.map((c) => ({ key: c.key, head: c.head })),
    }])),
    rows: hosts.flatMap((h) => sections.flatMap((s) => (h.rows.get(s) ?? []).map((r) => ({
      host: r.host,
      section: s,
      ...(r.entity !== '' ? { [SECTION_DEFS[s].entityHead ?? 'entity']: r.entity } : {}),
      time: new Date(Math.round(r.endNs / 1e6)).toISOString(),
      timestamp_ns: r.endNs,
      elapsed_s: r.elapsedSeconds,
      interval_s: r.intervalSeconds,
      values: Object.fromEntries(SECTION_DEFS[s].columns.map((c, i) => [c.key, r.values[i] ?? null])),
    })))),
  };
}
