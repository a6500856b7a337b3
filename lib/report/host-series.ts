/**
 * One host's samples as columns for the report: time since the run started, the headline figures
 * (`summary`'s, from lib/rates through the same `headline()`), and the detail series of the host
 * view (CPU split, memory, load, each disk, each interface, watched processes, app counters).
 * Rates pair each sample with the previous one that has data, timed as `summary` times them.
 */
import type { TimeSeriesSample } from '../models/sample.js';
import { HostPairs } from '../rates/host-pairs.js';
import type { Rates } from '../types/rates.js';
import { sampleNs } from '../views/intervals.js';
import { countedInterface } from '../cli/view/devices.js';
import { HEADLINE_METRICS, type Headline } from '../cli/view/headline.js';
import { chartsFor } from './charts.js';
import type { ChartMeta } from './report-data.js';

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


/** A column's place in Columns, looked up once per name (not a Map lookup per value). */
interface Slot {
  readonly key: string;
  col: number[] | undefined;
}

/** Named columns filled row by row; a column born late is NaN before, one not set in a row NaN there. */
class Columns {
  readonly cols = new Map<string, number[]>();
  private readonly slots = new Map<string, Slot>();
  rows = 0;
  slot(key: string): Slot {
    let s = this.slots.get(key);
    if (!s) this.slots.set(key, (s = { key, col: undefined }));
    return s;
  }
  set(s: Slot, v: number | undefined): void {
    if (v === undefined || !Number.isFinite(v)) return;
    let c = s.col;
    if (!c) {
      c = s.col = [];
      this.cols.set(s.key, c);
    }
    // Padded when next set, not by a pass over every column at every row.
    while (c.length < this.rows) c.push(NaN);
    c[this.rows] = v;
  }
  /** Ends the current row. */
  next(): void {
    this.rows++;
  }
  finish(): Map<string, number[]> {
    for (const c of this.cols.values()) while (c.length < this.rows) c.push(NaN);
    return this.cols;
  }
}

const num = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : Number(v));

/** A device's (interface's, process's, counter's) column slots, made once: not template literals per sample. */
function slotsOf(cols: Columns, make: (name: string) => string[]): (name: string) => Slot[] {
  const cache = new Map<string, Slot[]>();
  return (name) => {
    let k = cache.get(name);
    if (!k) cache.set(name, (k = make(name).map((key) => cols.slot(key))));
    return k;
  };
}

const DISK_KEYS = ['r_s', 'w_s', 'rMB_s', 'wMB_s', 'r_await', 'w_await', 'util'] as const;
const NET_KEYS = ['rx_packets_s', 'tx_packets_s', 'rx_errors_s', 'tx_errors_s', 'rx_dropped_s', 'tx_dropped_s'] as const;

/**
 * A host's series, fed pair by pair as HostPairs computes them (pair `i` ends at `pairs.data[i]`):
 * the rates are read as they are made, never kept.
 */
export class SeriesBuilder {
  private readonly t: number[] = [];
  private readonly head = new Columns();
  private readonly det = new Columns();
  private readonly gapAfter: number;
  private readonly diskSet: ReadonlySet<string>;
  private readonly netBytes = new Map<string, number>();
  private readonly headSlots = HEADLINE_METRICS.map((m) => this.head.slot(m.key));
  private readonly cpu = ['cpu.usr', 'cpu.sys', 'cpu.iowait', 'cpu.steal', 'cpu.other'].map((k) => this.det.slot(k));
  private readonly mem = ['mem.used', 'mem.cache', 'mem.total'].map((k) => this.det.slot(k));
  private readonly load = ['load.1', 'load.5', 'load.15'].map((k) => this.det.slot(k));
  private readonly diskKeys = slotsOf(this.det, (d) => DISK_KEYS.map((k) => `disk.${d}.${k}`));
  private readonly netKeys = slotsOf(this.det, (n) => [`net.${n}.rx_MB_s`, `net.${n}.tx_MB_s`, ...NET_KEYS.map((k) => `net.${n}.${k}`)]);
  private readonly procKeys = slotsOf(this.det, (p) => [`proc.${p}.cpu_pct`, `proc.${p}.rss_MB`, `proc.${p}.rMB_s`, `proc.${p}.wMB_s`]);
  private readonly appKey = slotsOf(this.det, (a) => [`app.${a}`]);
  private readonly appRateKey = slotsOf(this.det, (a) => [`app.${a.replace(/_s$/, '')}/s`]);

  /** `startNs` the run's start; `nominalInterval` the file's interval. */
  constructor(private readonly pairs: HostPairs, private readonly startNs: number, nominalInterval: number) {
    this.gapAfter = nominalInterval > 0 ? 1.5 * nominalInterval : Infinity;
    this.diskSet = new Set(pairs.disks);
  }

  add(i: number, r: Rates, h: Headline): void {
    const { t, head, det, netBytes } = this;
    const s = this.pairs.data[i];
    const ts = (sampleNs(s) - this.startNs) / 1e9;
    if (i > 0) {
      const prevT = t[t.length - 1];
      // A hole in the data (a host down): a NaN row so the lines break instead of bridging it.
      if (ts - prevT > this.gapAfter) {
        t.push((prevT + ts) / 2);
        head.next();
        det.next();
      }
    }
    t.push(ts);
    for (let k = 0; k < HEADLINE_METRICS.length; k++) {
      const key = HEADLINE_METRICS[k].key;
      if (i > 0 || key === 'mem_used_pct') head.set(this.headSlots[k], h[key]);
    }

    const c = r.cpu.all;
    if (c && i > 0) {
      const [usr, sys, iowait, steal, other] = this.cpu;
      det.set(usr, c.usr);
      det.set(sys, c.sys);
      det.set(iowait, c.iowait);
      det.set(steal, c.steal);
      det.set(other, (c.nice ?? 0) + (c.irq ?? 0) + (c.soft ?? 0) + (c.guest ?? 0));
    }
    const mi = s.meminfo;
    if (mi) {
      const total = num(mi.MemTotal);
      const avail = num(mi.MemAvailable);
      const [used, cache, all] = this.mem;
      if (total !== undefined && avail !== undefined) det.set(used, (total - avail) / GiB);
      const cached = num(mi.Cached);
      if (cached !== undefined) det.set(cache, (cached + (num(mi.Buffers) ?? 0)) / GiB);
      if (total !== undefined) det.set(all, total / GiB);
    }
    if (s.loadavg) {
      const [one, five, fifteen] = this.load;
      det.set(one, s.loadavg.load_1min);
      det.set(five, s.loadavg.load_5min);
      det.set(fifteen, s.loadavg.load_15min);
    }
    for (const d of Object.keys(r.disk)) {
      if (!this.diskSet.has(d)) continue;
      const x = r.disk[d];
      const k = this.diskKeys(d);
      for (let j = 0; j < DISK_KEYS.length; j++) det.set(k[j], x[DISK_KEYS[j]]);
    }
    for (const n of Object.keys(r.net)) {
      if (!countedInterface(n)) continue;
      const x = r.net[n];
      const k = this.netKeys(n);
      netBytes.set(n, (netBytes.get(n) ?? 0) + (x.rx_bytes_s ?? 0) + (x.tx_bytes_s ?? 0));
      det.set(k[0], x.rx_bytes_s === undefined ? undefined : x.rx_bytes_s / MiB);
      det.set(k[1], x.tx_bytes_s === undefined ? undefined : x.tx_bytes_s / MiB);
      for (let j = 0; j < NET_KEYS.length; j++) det.set(k[j + 2], x[NET_KEYS[j]]);
    }
    for (const p of s.processes ?? []) {
      const pr = r.proc[p.key];
      const k = this.procKeys(p.key);
      det.set(k[0], i > 0 ? pr?.cpu_pct : undefined);
      det.set(k[1], Number(p.rss_kb) / 1024);
      det.set(k[2], pr?.rMB_s);
      det.set(k[3], pr?.wMB_s);
    }
    if (s.app) for (const [name, v] of Object.entries(s.app)) det.set(this.appKey(name)[0], Number(v));
    for (const [name, v] of Object.entries(r.app)) det.set(this.appRateKey(name)[0], v);
    head.next();
    det.next();
  }

  finish(): HostSeries {
    const detail = this.det.finish();
    const interfaces = [...new Set([...detail.keys()].filter((k) => k.startsWith('net.')).map((k) => k.slice(4, k.lastIndexOf('.'))))];
    const idleInterfaces = interfaces.filter((n) => !(this.netBytes.get(n)! > 0));
    for (const n of idleInterfaces) for (const k of [...detail.keys()]) if (k.startsWith(`net.${n}.`)) detail.delete(k);
    return { t: this.t, headline: this.head.finish(), detail, charts: chartsFor(detail, this.pairs.disks), idleInterfaces };
  }
}

/**
 * `samples` in time order; `startNs` the run's start; `nominalInterval` the file's interval (for
 * whole-second timestamps, as `summary` uses it).
 */
export function hostSeries(samples: readonly TimeSeriesSample[], startNs: number, nominalInterval: number): HostSeries {
  const pairs = new HostPairs(samples, nominalInterval, 'report');
  const b = new SeriesBuilder(pairs, startNs, nominalInterval);
  pairs.compute((i, r, h) => b.add(i, r, h));
  return b.finish();
}
