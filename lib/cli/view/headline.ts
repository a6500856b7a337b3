/**
 * The headline numbers of a host: disk IOPS and MB/s (summed over whole disks), the busiest
 * disk's %util, net MB/s (non-loopback), CPU busy % and memory used %. Shared by `summary`,
 * `sample` and the live status line.
 */
import type { Counter, DiskstatsEntry } from '../../types/sample.js';
import { countedInterface } from './devices.js';
import type { Rates } from '../../types/rates.js';

export const HEADLINE_METRICS = [
  { key: 'disk_iops', label: 'disk IOPS', digits: 1 },
  { key: 'disk_read_mb_s', label: 'disk read MB/s', digits: 2 },
  { key: 'disk_write_mb_s', label: 'disk write MB/s', digits: 2 },
  { key: 'disk_util_max_pct', label: 'disk %util (max)', digits: 1 },
  { key: 'net_rx_mb_s', label: 'net rx MB/s', digits: 2 },
  { key: 'net_tx_mb_s', label: 'net tx MB/s', digits: 2 },
  { key: 'cpu_busy_pct', label: 'CPU busy %', digits: 1 },
  { key: 'mem_used_pct', label: 'memory used %', digits: 1 },
] as const;

export type HeadlineKey = (typeof HEADLINE_METRICS)[number]['key'];
export type Headline = Partial<Record<HeadlineKey, number>>;

const MiB = 1024 * 1024;

function sum(values: (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : present.reduce((s, v) => s + v, 0);
}

/** Headline values of one interval; absent when the interval has no such data. */
export function headline(r: Rates, disks: readonly string[]): Headline {
  const out: Headline = {};
  const set = (k: HeadlineKey, v: number | undefined): void => {
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  };
  const d = disks.map((n) => r.disk[n]).filter((x) => x !== undefined);
  set('disk_iops', sum(d.map((x) => x.iops)));
  set('disk_read_mb_s', sum(d.map((x) => x.rMB_s)));
  set('disk_write_mb_s', sum(d.map((x) => x.wMB_s)));
  const utils = d.map((x) => x.util).filter((v): v is number => v !== undefined);
  if (utils.length > 0) set('disk_util_max_pct', Math.max(...utils));
  const nets = Object.entries(r.net).filter(([n]) => countedInterface(n)).map(([, x]) => x);
  const rx = sum(nets.map((x) => x.rx_bytes_s));
  const tx = sum(nets.map((x) => x.tx_bytes_s));
  set('net_rx_mb_s', rx === undefined ? undefined : rx / MiB);
  set('net_tx_mb_s', tx === undefined ? undefined : tx / MiB);
  set('cpu_busy_pct', r.cpu.all?.busy);
  set('mem_used_pct', r.mem.used_pct);
  return out;
}

/** Reads + writes completed by a device. */
export function ioCount(e: Pick<DiskstatsEntry, 'reads_completed' | 'writes_completed'>): bigint {
  const n = (c: Counter): bigint => BigInt(c);
  return n(e.reads_completed) + n(e.writes_completed);
}
