/**
 * What `summary` says beyond the headline totals, for "what did my disks and CPUs do?": per disk
 * r_await, w_await, aqu-sz and %util; CPU iowait and steal; the hot core (the busiest CPU of each
 * interval, so one saturated core shows even when the average is low); and the busiest interval
 * by CPU, disk and network.
 */
import { summarize } from '../../collector/aggregate.js';
import type { Aggregate } from '../../types/collector.js';
import type { Rates } from '../../types/rates.js';
import { headline, type Headline } from '../view/headline.js';

export const DISK_DETAIL = [
  { key: 'r_await', label: 'r_await ms', digits: 2 },
  { key: 'w_await', label: 'w_await ms', digits: 2 },
  { key: 'aqu_sz', label: 'aqu-sz', digits: 2 },
  { key: 'util', label: '%util', digits: 1 },
] as const;
export type DiskDetailKey = (typeof DISK_DETAIL)[number]['key'];

export interface DiskDetail {
  device: string;
  /** In the totals (a physical disk), or listed apart (loop, dm, md, zram that did I/O). */
  inTotals: boolean;
  metrics: Record<DiskDetailKey, Aggregate>;
}

export interface Busiest {
  /** What was busiest: `cpu_busy_pct`, `disk_mb_s` (read + write, physical disks), `net_mb_s` (rx + tx). */
  key: 'cpu_busy_pct' | 'disk_mb_s' | 'net_mb_s';
  value: number;
  /** End of the interval, ns since the epoch. */
  endNs: number;
  intervalSeconds: number;
}

export interface CpuDetail {
  iowait: Aggregate;
  steal: Aggregate;
  /** Per interval, the busy % of the busiest single CPU. */
  hotCore: Aggregate;
  /** The CPU with the highest busy % in any interval, and that value. */
  hottest?: { cpu: string; busyPct: number };
}

export interface Details {
  disks: DiskDetail[];
  cpu: CpuDetail;
  busiest: Busiest[];
}

/** Fed interval by interval (the same pairs as the headline figures), then summarised. */
export class DetailCollector {
  private readonly disk = new Map<string, Record<DiskDetailKey, number[]>>();
  private readonly iowait: number[] = [];
  private readonly steal: number[] = [];
  private readonly hot: number[] = [];
  private hottest: { cpu: string; busyPct: number } | undefined;
  private readonly busiest = new Map<Busiest['key'], Busiest>();

  constructor(private readonly devices: readonly string[], private readonly totals: readonly string[]) {}

  /** `h`: headline(r, totals), when the caller has it already. */
  add(r: Rates, endNs: number, h: Headline = headline(r, this.totals)): void {
    for (const d of this.devices) {
      const x = r.disk[d];
      if (!x) continue;
      let v = this.disk.get(d);
      if (!v) this.disk.set(d, (v = { r_await: [], w_await: [], aqu_sz: [], util: [] }));
      for (const { key } of DISK_DETAIL) {
        const n = x[key];
        if (n !== undefined && Number.isFinite(n)) v[key].push(n);
      }
    }
    const all = r.cpu.all;
    if (all?.iowait !== undefined) this.iowait.push(all.iowait);
    if (all?.steal !== undefined) this.steal.push(all.steal);
    let hot: { cpu: string; busyPct: number } | undefined;
    for (const [cpu, c] of Object.entries(r.cpu)) {
      if (cpu === 'all' || c.busy === undefined) continue;
      if (!hot || c.busy > hot.busyPct) hot = { cpu, busyPct: c.busy };
    }
    if (hot) {
      this.hot.push(hot.busyPct);
      if (!this.hottest || hot.busyPct > this.hottest.busyPct) this.hottest = hot;
    }
    const candidates: [Busiest['key'], number | undefined][] = [
      ['cpu_busy_pct', h.cpu_busy_pct],
      ['disk_mb_s', h.disk_read_mb_s === undefined && h.disk_write_mb_s === undefined ? undefined : (h.disk_read_mb_s ?? 0) + (h.disk_write_mb_s ?? 0)],
      ['net_mb_s', h.net_rx_mb_s === undefined && h.net_tx_mb_s === undefined ? undefined : (h.net_rx_mb_s ?? 0) + (h.net_tx_mb_s ?? 0)],
    ];
    for (const [key, value] of candidates) {
      if (value === undefined || !Number.isFinite(value)) continue;
      const b = this.busiest.get(key);
      if (!b || value > b.value) this.busiest.set(key, { key, value, endNs, intervalSeconds: r.intervalSeconds });
    }
  }

  result(spanSeconds: number): Details {
    const inTotals = new Set(this.totals);
    const agg = (v: number[]): Aggregate => summarize(v, spanSeconds);
    return {
      disks: this.devices.filter((d) => this.disk.has(d)).map((d) => {
        const v = this.disk.get(d)!;
        return { device: d, inTotals: inTotals.has(d), metrics: { r_await: agg(v.r_await), w_await: agg(v.w_await), aqu_sz: agg(v.aqu_sz), util: agg(v.util) } };
      }),
      cpu: { iowait: agg(this.iowait), steal: agg(this.steal), hotCore: agg(this.hot), ...(this.hottest ? { hottest: this.hottest } : {}) },
      busiest: (['cpu_busy_pct', 'disk_mb_s', 'net_mb_s'] as const).map((k) => this.busiest.get(k)).filter((b) => b !== undefined),
    };
  }
}
