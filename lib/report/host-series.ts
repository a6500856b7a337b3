/**
 * One host's samples as columns for the report: time since the run started, the headline figures
 * (`summary`'s, from lib/rates through the same `headline()`), and the detail series of the host
 * view (CPU split, memory, load, each disk, each interface, watched processes, app counters).
 * Rates pair each sample with the previous one that has data, timed as `summary` times them.
 */
import type { TimeSeriesSample } from '../models/sample.js';
import { computeRates } from '../rates/compute.js';
import { dataTicks, sampleNs } from '../views/intervals.js';
import { countedInterface, wholeDisks } from '../cli/view/devices.js';
import { HEADLINE_METRICS, headline } from '../cli/view/headline.js';
import type { ChartMeta, SeriesMeta } from './report-data.js';

export interface HostSeries {
  /** Seconds since the run started, one per row; a NaN row breaks the lines across a gap. */
  t: number[];
  headline: Map<string, number[]>;
  detail: Map<string, number[]>;
  charts: ChartMeta[];
  idleInterfaces: string[];
}

const GiB = 1024 * 1024;
const MiB = 1024 * 1024;


/** Named columns filled row by row; a column born late is NaN before. */
class Columns {
  readonly cols = new Map<string, number[]>();
  rows = 0;
  set(key: string, v: number | undefined): void {
    if (v === undefined || !Number.isFinite(v)) return;
    let c = this.cols.get(key);
    if (!c) {
      c = new Array<number>(this.rows + 1).fill(NaN);
      this.cols.set(key, c);
    }
    c[this.rows] = v;
  }
  /** Ends the current row. */
  next(): void {
    this.rows++;
    for (const c of this.cols.values()) if (c.length < this.rows + 1) c.push(NaN);
  }
  finish(): Map<string, number[]> {
    for (const c of this.cols.values()) c.length = this.rows;
    return this.cols;
  }
}

const num = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));

/**
 * `samples` in time order; `startNs` the run's start; `nominalInterval` the file's interval (for
 * whole-second timestamps, as `summary` uses it).
 */
export function hostSeries(samples: readonly TimeSeriesSample[], startNs: number, nominalInterval: number): HostSeries {
  const { data, ticks, diskNames: names } = dataTicks(samples);
  const disks = wholeDisks(names);
  const diskSet = new Set(disks);
  const nominal = (n: number): { nominalSeconds?: number } => (nominalInterval > 0 ? { nominalSeconds: n * nominalInterval } : {});

  const t: number[] = [];
  const head = new Columns();
  const det = new Columns();
  const gapAfter = nominalInterval > 0 ? 1.5 * nominalInterval : Infinity;
  const netBytes = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const s = data[i];
    const ts = (sampleNs(s) - startNs) / 1e9;
    if (i > 0) {
      const prevT = t[t.length - 1];
      // A hole in the data (a host down): a NaN row so the lines break instead of bridging it.
      if (ts - prevT > gapAfter) {
        t.push((prevT + ts) / 2);
        head.next();
        det.next();
      }
    }
    t.push(ts);
    const r = computeRates(i > 0 ? data[i - 1] : s, s, i > 0 ? nominal(ticks[i] - ticks[i - 1]) : {});
    const h = headline(r, disks);
    for (const m of HEADLINE_METRICS) if (i > 0 || m.key === 'mem_used_pct') head.set(m.key, h[m.key]);

    const c = r.cpu.all;
    if (c && i > 0) {
      det.set('cpu.usr', c.usr);
      det.set('cpu.sys', c.sys);
      det.set('cpu.iowait', c.iowait);
      det.set('cpu.steal', c.steal);
      det.set('cpu.other', (c.nice ?? 0) + (c.irq ?? 0) + (c.soft ?? 0) + (c.guest ?? 0));
    }
    const mi = s.meminfo;
    if (mi) {
      const total = num(mi.MemTotal);
      const avail = num(mi.MemAvailable);
      if (total !== undefined && avail !== undefined) det.set('mem.used', (total - avail) / GiB);
      const cached = num(mi.Cached);
      if (cached !== undefined) det.set('mem.cache', (cached + (num(mi.Buffers) ?? 0)) / GiB);
      if (total !== undefined) det.set('mem.total', total / GiB);
    }
    if (s.loadavg) {
      det.set('load.1', s.loadavg.load_1min);
      det.set('load.5', s.loadavg.load_5min);
      det.set('load.15', s.loadavg.load_15min);
    }
    for (const [d, x] of Object.entries(r.disk)) {
      if (!diskSet.has(d)) continue;
      for (const k of ['r_s', 'w_s', 'rMB_s', 'wMB_s', 'r_await', 'w_await', 'util'] as const) det.set(`disk.${d}.${k}`, x[k]);
    }
    for (const [n, x] of Object.entries(r.net)) {
      if (!countedInterface(n)) continue;
      netBytes.set(n, (netBytes.get(n) ?? 0) + (x.rx_bytes_s ?? 0) + (x.tx_bytes_s ?? 0));
      det.set(`net.${n}.rx_MB_s`, x.rx_bytes_s === undefined ? undefined : x.rx_bytes_s / MiB);
      det.set(`net.${n}.tx_MB_s`, x.tx_bytes_s === undefined ? undefined : x.tx_bytes_s / MiB);
      for (const k of ['rx_packets_s', 'tx_packets_s', 'rx_errors_s', 'tx_errors_s', 'rx_dropped_s', 'tx_dropped_s'] as const) det.set(`net.${n}.${k}`, x[k]);
    }
    for (const p of s.processes ?? []) {
      const pr = r.proc[p.key];
      det.set(`proc.${p.key}.cpu_pct`, i > 0 ? pr?.cpu_pct : undefined);
      det.set(`proc.${p.key}.rss_MB`, Number(p.rss_kb) / 1024);
      det.set(`proc.${p.key}.rMB_s`, pr?.rMB_s);
      det.set(`proc.${p.key}.wMB_s`, pr?.wMB_s);
    }
    for (const [name, v] of Object.entries(s.app ?? {})) det.set(`app.${name}`, Number(v));
    for (const [name, v] of Object.entries(r.app)) det.set(`app.${name.replace(/_s$/, '')}/s`, v);
    head.next();
    det.next();
  }
  const detail = det.finish();
  const interfaces = [...new Set([...detail.keys()].filter((k) => k.startsWith('net.')).map((k) => k.slice(4, k.lastIndexOf('.'))))];
  const idleInterfaces = interfaces.filter((n) => !(netBytes.get(n)! > 0));
  for (const n of idleInterfaces) for (const k of [...detail.keys()]) if (k.startsWith(`net.${n}.`)) detail.delete(k);
  return { t, headline: head.finish(), detail, charts: chartsFor(detail, disks), idleInterfaces };
}

/** The charts of the host view, for the series this host has. */
function chartsFor(detail: Map<string, number[]>, disks: string[]): ChartMeta[] {
  const out: ChartMeta[] = [];
  const s = (key: string, label: string, unit: string): SeriesMeta => ({ key, label, unit });
  const add = (c: ChartMeta): void => {
    const series = c.series.filter((x) => detail.has(x.key));
    if (series.length > 0) out.push({ ...c, series });
  };
  add({ id: 'cpu', group: 'CPU, memory, load', title: 'CPU (all CPUs, stacked)', unit: '%', stacked: true, yMax: 100, series: [
    s('cpu.usr', 'usr', '%'), s('cpu.sys', 'sys', '%'), s('cpu.iowait', 'iowait', '%'), s('cpu.steal', 'steal', '%'), s('cpu.other', 'nice+irq+soft+guest', '%'),
  ] });
  add({ id: 'mem', group: 'CPU, memory, load', title: 'memory', unit: 'GiB', series: [
    s('mem.used', 'used (total − available)', 'GiB'), s('mem.cache', 'page cache + buffers', 'GiB'), s('mem.total', 'total', 'GiB'),
  ] });
  add({ id: 'load', group: 'CPU, memory, load', title: 'load average', unit: 'tasks', series: [
    s('load.1', '1 min', 'tasks'), s('load.5', '5 min', 'tasks'), s('load.15', '15 min', 'tasks'),
  ] });
  for (const d of disks) {
    const g = `disk ${d}`;
    const k = (x: string): string => `disk.${d}.${x}`;
    add({ id: `disk-${d}-iops`, group: g, title: `${d} IOPS`, unit: 'IOPS', series: [s(k('r_s'), 'reads/s', 'IOPS'), s(k('w_s'), 'writes/s', 'IOPS')] });
    add({ id: `disk-${d}-mb`, group: g, title: `${d} throughput`, unit: 'MB/s', series: [s(k('rMB_s'), 'read', 'MB/s'), s(k('wMB_s'), 'write', 'MB/s')] });
    add({ id: `disk-${d}-await`, group: g, title: `${d} await`, unit: 'ms', series: [s(k('r_await'), 'r_await', 'ms'), s(k('w_await'), 'w_await', 'ms')] });
    add({ id: `disk-${d}-util`, group: g, title: `${d} %util`, unit: '%', yMax: 100, series: [s(k('util'), '%util', '%')] });
  }
  const prefixes = (p: string): string[] => [...new Set([...detail.keys()].filter((k) => k.startsWith(p)).map((k) => k.slice(p.length, k.lastIndexOf('.'))))];
  for (const n of prefixes('net.')) {
    const g = `interface ${n}`;
    const k = (x: string): string => `net.${n}.${x}`;
    add({ id: `net-${n}-mb`, group: g, title: `${n} throughput`, unit: 'MB/s', series: [s(k('rx_MB_s'), 'rx', 'MB/s'), s(k('tx_MB_s'), 'tx', 'MB/s')] });
    add({ id: `net-${n}-pk`, group: g, title: `${n} packets`, unit: 'packets/s', series: [s(k('rx_packets_s'), 'rx', 'packets/s'), s(k('tx_packets_s'), 'tx', 'packets/s')] });
    add({ id: `net-${n}-err`, group: g, title: `${n} errors and drops`, unit: '/s', series: [
      s(k('rx_errors_s'), 'rx errors', '/s'), s(k('tx_errors_s'), 'tx errors', '/s'), s(k('rx_dropped_s'), 'rx dropped', '/s'), s(k('tx_dropped_s'), 'tx dropped', '/s'),
    ] });
  }
  const procs = prefixes('proc.');
  if (procs.length > 0) {
    const per = (x: string, unit: string): SeriesMeta[] => procs.map((p) => s(`proc.${p}.${x}`, p, unit));
    add({ id: 'proc-cpu', group: 'processes', title: 'process CPU (100 = one CPU)', unit: '%', series: per('cpu_pct', '%') });
    add({ id: 'proc-rss', group: 'processes', title: 'process resident memory', unit: 'MiB', series: per('rss_MB', 'MiB') });
    add({ id: 'proc-io', group: 'processes', title: 'process storage I/O (read + written)', unit: 'MB/s', series: [
      ...procs.map((p) => s(`proc.${p}.rMB_s`, `${p} read`, 'MB/s')), ...procs.map((p) => s(`proc.${p}.wMB_s`, `${p} write`, 'MB/s')),
    ] });
  }
  const apps = [...detail.keys()].filter((k) => k.startsWith('app.') && !k.endsWith('/s')).map((k) => k.slice(4));
  for (const a of apps) {
    add({ id: `app-${a}`, group: 'application counters', title: `app ${a}`, unit: 'value', series: [s(`app.${a}`, a, 'value')] });
    add({ id: `app-${a}-rate`, group: 'application counters', title: `app ${a} per second`, unit: '/s', series: [s(`app.${a}/s`, `${a}/s`, '/s')] });
  }
  return out;
}
