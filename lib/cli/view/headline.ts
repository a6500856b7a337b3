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

/** Adds `v` to a running sum that has no value until its first term (as 0 + v1 + v2 + … would). */
const plus = (acc: number | undefined, v: number | undefined): number | undefined => (v === undefined ? acc : (acc ?? 0) + v);

/**
 * Headline values of one interval; absent when the interval has no such data. Loops, not
 * map/filter chains: it runs once per pair of samples (measured: 11% of a report build, three
 * calls a pair then); the sums add in the same order.
 */
export function headline(r: Rates, disks: readonly string[]): Headline {
  const out: Headline = {};
  const set = (k: HeadlineKey, v: number | undefined): void => {
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  };
  let iops: number | undefined;
  let read: number | undefined;
  let write: number | undefined;
  let util: number | undefined;
  for (const n of disks) {
    const x = r.disk[n];
    if (x === undefined) continue;
    iops = plus(iops, x.iops);
    read = plus(read, x.rMB_s);
    write = plus(write, x.wMB_s);
    if (x.util !== undefined) util = util === undefined ? x.util : Math.max(util, x.util);
  }
  set('disk_iops', iops);
  set('disk_read_mb_s', read);
  set('disk_write_mb_s', write);
  set('disk_util_max_pct', util);
  let rx: number | undefined;
  let tx: number | undefined;
  for (const n of Object.keys(r.net)) {
    if (!countedInterface(n)) continue;
    const x = r.net[n];
    rx = plus(rx, x.rx_bytes_s);
    tx = plus(tx, x.tx_bytes_s);
  }
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
