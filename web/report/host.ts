/**
 * Host detail: one host's summary table (the `summary` command's figures) and its charts: CPU
 * stacked, memory, load, each disk, each interface, watched processes and app counters.
 */
import type { HostMeta } from '../../lib/report/report-data';
import { chart, destroyCharts } from './chart';
import { clear, h } from './dom';
import { elapsed, fixed, plural } from './format';
import type { ReportSource } from './source';

/** A run by its file's name (the whole path only when two runs share a name). */
export function runLabel(source: ReportSource, run: number): string {
  const files = source.meta.runs.map((r) => r.file);
  const base = (f: string): string => f.slice(f.lastIndexOf('/') + 1);
  const b = base(files[run]);
  return files.filter((f) => base(f) === b).length > 1 ? files[run] : b;
}

export function hostLabel(source: ReportSource, hm: HostMeta): string {
  return source.meta.runs.length > 1 ? `${hm.name} (${runLabel(source, hm.run)})` : hm.name;
}

export async function renderHost(root: HTMLElement, source: ReportSource, id: number): Promise<void> {
  destroyCharts(root);
  clear(root);
  const hm = source.meta.hosts[id];
  const run = source.meta.runs[hm.run];
  root.append(h('h2', { class: 'hs-host-title' }, hostLabel(source, hm)));
  root.append(summaryTables(source, hm));
  const cols = await source.host(id);
  const width = Math.max(600, root.clientWidth || 1200);
  const cw = width >= 1100 ? Math.floor((width - 16) / 2) : width;
  const x: [number, number] = [0, Math.max(run.durationSeconds, 1e-3)];
  const markers = run.markers.filter((m) => m.host === undefined || m.host === hm.name);
  let group = '';
  let box: HTMLElement | undefined;
  for (const c of hm.charts) {
    if (c.group !== group || !box) {
      group = c.group;
      root.append(h('h3', { class: 'hs-group' }, group));
      box = h('div', { class: 'hs-charts' });
      root.append(box);
    }
    const lines = c.series.filter((s) => cols[s.key]).map((s) => ({ label: s.label, unit: s.unit, t: cols.t, y: cols[s.key], key: s.key }));
    chart(box, { title: c.title, unit: c.unit, width: cw, height: 200, lines, x, startMs: run.startMs, yMax: c.yMax, stacked: c.stacked, markers });
  }
  if (hm.idleInterfaces.length > 0) root.append(h('p', { class: 'hs-note' }, `Interfaces with no traffic (not charted): ${hm.idleInterfaces.join(', ')}`));
  root.append(h('p', { class: 'hs-note' }, 'Drag across a chart to zoom in, double-click to zoom out. MB are MiB (as iostat prints them).'));
}

function summaryTables(source: ReportSource, hm: HostMeta): HTMLElement {
  const s = hm.summary;
  const box = h('div', { class: 'hs-summary' });
  const cov = [
    `${plural(s.samples, 'sample')} over ${elapsed(s.spanSeconds)}`,
    s.intervalSeconds === null ? '' : `interval ${elapsed(s.intervalSeconds)}`,
    s.gaps === 0 ? 'no gaps' : `${plural(s.gaps, 'gap')} (longest ${elapsed(s.longestGapSeconds)})`,
    s.errorSamples === 0 ? 'no errors' : `${s.errorSamples} with errors`,
  ].filter(Boolean).join(', ');
  box.append(h('p', { class: 'hs-coverage' }, cov));
  for (const e of s.errors) box.append(h('p', { class: 'hs-warning' }, `errors from ${e.source}: ${e.count} (first: ${e.first})`));
  if (s.disks.length) box.append(h('p', { class: 'hs-note' }, `disks in the totals: ${s.disks.join(', ')}${s.otherDevices.length ? `; not in totals (their I/O is on those disks): ${s.otherDevices.join(', ')}` : ''}`));
  const t = h('table', { class: 'hs-table hs-summary-table', 'data-host': hm.name },
    h('caption', {}, 'Summary (as hostseries summary prints it)'),
    h('thead', {}, h('tr', {}, h('th', {}, 'metric'), h('th', {}, 'avg'), h('th', {}, 'min'), h('th', {}, 'max'), h('th', {}, 'p95'))));
  const body = h('tbody');
  for (const m of source.meta.headline) {
    const a = s.metrics[m.key];
    if (!a) continue;
    const cell = (k: 'avg' | 'min' | 'max' | 'p95'): HTMLElement => h('td', { 'data-stat': k, 'data-value': a[k] === null ? '' : String(a[k]) }, fixed(a[k], m.digits));
    body.append(h('tr', { 'data-metric': m.key }, h('th', {}, `${m.label} (${m.unit})`), cell('avg'), cell('min'), cell('max'), cell('p95')));
  }
  t.append(body);
  box.append(t);
  if (s.processes.length > 0) {
    const p = h('table', { class: 'hs-table' }, h('caption', {}, 'Watched processes'),
      h('thead', {}, h('tr', {}, ...['process', 'CPU % avg', 'p95', 'max', 'peak RSS MiB', 'read MiB', 'written MiB', 'restarts'].map((c) => h('th', {}, c)))));
    const pb = h('tbody');
    for (const r of s.processes) {
      pb.append(h('tr', {}, h('th', {}, r.key), h('td', {}, fixed(r.cpuAvg)), h('td', {}, fixed(r.cpuP95)), h('td', {}, fixed(r.cpuMax)),
        h('td', {}, fixed(r.peakRssMiB)), h('td', {}, fixed(r.readMiB)), h('td', {}, fixed(r.writtenMiB)), h('td', {}, String(r.restarts))));
    }
    p.append(pb);
    box.append(p);
  }
  if (s.app.length > 0) {
    box.append(h('ul', { class: 'hs-app-list' }, ...s.app.map((a) => h('li', {}, `app ${a.name}: ${a.first === a.last ? fixed(a.last, 2) : `${fixed(a.first, 2)} → ${fixed(a.last, 2)}`}${a.perSecond !== null && a.first !== a.last ? ` (${fixed(a.perSecond, 2)}/s)` : ''}`))));
  }
  return box;
}
