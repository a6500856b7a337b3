/**
 * The formulas of the derived rates (sysstat's: iostat -x, sar -n DEV, sar -u, sar -B), one rate
 * each, with the counters it reads: the one home of the math. `computeRates` applies them to a
 * pair of samples; the read API of `hostseries serve` applies one of them to stored columns
 * (lib/serve/rate-inputs.ts), reading only that one's inputs.
 *
 * A delta formula gets the deltas of its counters over the interval (a counter absent at either
 * end, or gone backwards, is undefined: then it gives no rate) and the interval in seconds (> 0);
 * a level formula gets the later sample's values.
 */
import { delta, ratio } from './delta.js';
import type { CpuRates, DiskRates, MemLevels, NetRates, VmRates } from '../types/rates.js';
import type { Counter, CPU_FIELDS, CpuTimes, DISKSTATS_FIELDS, DiskstatsEntry, NETDEV_FIELDS, NetdevEntry } from '../types/sample.js';

/** Deltas of counters over an interval; undefined: none (absent, or gone backwards). */
export type Deltas<K extends string> = { [k in K]?: number };

export interface DeltaFormula<K extends string = string> {
  /** The counters whose deltas it reads. */
  readonly inputs: readonly K[];
  /** The rate over `dt` seconds (> 0), or undefined where a delta it needs is. */
  readonly of: (d: Deltas<K>, dt: number) => number | undefined;
}

export interface LevelFormula<K extends string = string> {
  /** The values of the later sample it reads (all of them present, or no value). */
  readonly inputs: readonly K[];
  readonly of: (v: Record<K, number>) => number;
}

export type DiskField = (typeof DISKSTATS_FIELDS)[number];
export type NetField = (typeof NETDEV_FIELDS)[number];
export type CpuField = (typeof CPU_FIELDS)[number];

/** A delta per second, divided by `scale` first (sectors to kB: 2); none without the delta. */
const per = (x: number | undefined, dt: number, scale = 1): number | undefined => (x === undefined ? undefined : ratio(scale === 1 ? x : x / scale, dt));

// Each formula reads its deltas by name (a generic `d[k]` read was a sixth of computeRates, measured).

/** iostat -x, per device; kB are 1024 bytes, sectors 512. Key order: the output's. */
export const DISK_FORMULAS: { readonly [k in keyof Required<DiskRates>]: DeltaFormula<DiskField> } = {
  r_s: { inputs: ['reads_completed'], of: (d, dt) => per(d.reads_completed, dt) },
  w_s: { inputs: ['writes_completed'], of: (d, dt) => per(d.writes_completed, dt) },
  iops: {
    inputs: ['reads_completed', 'writes_completed'],
    of: (d, dt) => (d.reads_completed !== undefined && d.writes_completed !== undefined ? ratio(d.reads_completed + d.writes_completed, dt) : undefined),
  },
  rkB_s: { inputs: ['sectors_read'], of: (d, dt) => per(d.sectors_read, dt, 2) },
  wkB_s: { inputs: ['sectors_written'], of: (d, dt) => per(d.sectors_written, dt, 2) },
  rMB_s: { inputs: ['sectors_read'], of: (d, dt) => per(d.sectors_read, dt, 2048) },
  wMB_s: { inputs: ['sectors_written'], of: (d, dt) => per(d.sectors_written, dt, 2048) },
  rrqm_s: { inputs: ['reads_merged'], of: (d, dt) => per(d.reads_merged, dt) },
  wrqm_s: { inputs: ['writes_merged'], of: (d, dt) => per(d.writes_merged, dt) },
  r_await: {
    inputs: ['reads_completed', 'time_reading_ms'],
    of: (d) => (d.reads_completed !== undefined && d.time_reading_ms !== undefined ? ratio(d.time_reading_ms, d.reads_completed) : undefined),
  },
  w_await: {
    inputs: ['writes_completed', 'time_writing_ms'],
    of: (d) => (d.writes_completed !== undefined && d.time_writing_ms !== undefined ? ratio(d.time_writing_ms, d.writes_completed) : undefined),
  },
  aqu_sz: { inputs: ['weighted_time_doing_ios_ms'], of: (d, dt) => per(d.weighted_time_doing_ios_ms, dt, 1000) },
  util: {
    inputs: ['time_doing_ios_ms'],
    of: (d, dt) => (d.time_doing_ios_ms === undefined ? undefined : Math.min(100, ratio(d.time_doing_ios_ms / 10, dt))),
  },
};

/** sar -n DEV, per interface. */
export const NET_FORMULAS: { readonly [k in keyof Required<NetRates>]: DeltaFormula<NetField> } = {
  rx_bytes_s: { inputs: ['rx_bytes'], of: (d, dt) => per(d.rx_bytes, dt) },
  tx_bytes_s: { inputs: ['tx_bytes'], of: (d, dt) => per(d.tx_bytes, dt) },
  rx_packets_s: { inputs: ['rx_packets'], of: (d, dt) => per(d.rx_packets, dt) },
  tx_packets_s: { inputs: ['tx_packets'], of: (d, dt) => per(d.tx_packets, dt) },
  rx_errors_s: { inputs: ['rx_errors'], of: (d, dt) => per(d.rx_errors, dt) },
  tx_errors_s: { inputs: ['tx_errors'], of: (d, dt) => per(d.tx_errors, dt) },
  rx_dropped_s: { inputs: ['rx_dropped'], of: (d, dt) => per(d.rx_dropped, dt) },
  tx_dropped_s: { inputs: ['tx_dropped'], of: (d, dt) => per(d.tx_dropped, dt) },
};

/** The parts of the CPU's total time (guest is counted in user already, guest_nice in nice: sar leaves them out). */
const CPU_PARTS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** The sum of the parts' deltas (in CPU_PARTS' order), or undefined when one of them has none. */
function cpuTotal(d: Deltas<CpuField>): number | undefined {
  const { user, nice, system, idle, iowait, irq, softirq, steal } = d;
  if (user === undefined || nice === undefined || system === undefined || idle === undefined || iowait === undefined || irq === undefined || softirq === undefined || steal === undefined) return undefined;
  return 0 + user + nice + system + idle + iowait + irq + softirq + steal;
}

/** A percent of the total time: `part(d)` of it (the parts all present). */
function cpuPct(extra: readonly CpuField[], part: (d: Required<Deltas<CpuField>>, g: number, gn: number) => number): DeltaFormula<CpuField> {
  return {
    inputs: [...CPU_PARTS, ...extra],
    of: (d) => {
      const total = cpuTotal(d);
      return total === undefined ? undefined : ratio(part(d as Required<Deltas<CpuField>>, d.guest ?? 0, d.guest_nice ?? 0) * 100, total);
    },
  };
}

/** sar -u ALL, per CPU and for all (`usr` without guest, `nice` without guest_nice). */
export const CPU_FORMULAS: { readonly [k in keyof Required<CpuRates>]: DeltaFormula<CpuField> } = {
  usr: cpuPct(['guest'], (d, g) => Math.max(0, d.user - g)),
  nice: cpuPct(['guest_nice'], (d, _g, gn) => Math.max(0, d.nice - gn)),
  sys: cpuPct([], (d) => d.system),
  iowait: cpuPct([], (d) => d.iowait),
  irq: cpuPct([], (d) => d.irq),
  soft: cpuPct([], (d) => d.softirq),
  steal: cpuPct([], (d) => d.steal),
  guest: cpuPct(['guest', 'guest_nice'], (_d, g, gn) => g + gn),
  idle: cpuPct([], (d) => d.idle),
  busy: {
    inputs: CPU_PARTS,
    of: (d) => {
      const total = cpuTotal(d);
      if (total === undefined) return undefined;
      return total > 0 ? 100 - ratio(d.idle! * 100, total) - ratio(d.iowait! * 100, total) : 0;
    },
  },
};

/** sar -B (and swapping), from /proc/vmstat. */
export const VM_FORMULAS: { readonly [k in keyof Required<VmRates>]: DeltaFormula } = {
  pgpgin_s: { inputs: ['pgpgin'], of: (d, dt) => per(d.pgpgin, dt) },
  pgpgout_s: { inputs: ['pgpgout'], of: (d, dt) => per(d.pgpgout, dt) },
  fault_s: { inputs: ['pgfault'], of: (d, dt) => per(d.pgfault, dt) },
  majflt_s: { inputs: ['pgmajfault'], of: (d, dt) => per(d.pgmajfault, dt) },
  pswpin_s: { inputs: ['pswpin'], of: (d, dt) => per(d.pswpin, dt) },
  pswpout_s: { inputs: ['pswpout'], of: (d, dt) => per(d.pswpout, dt) },
};

/** Levels of the later sample, whatever the interval (a reboot too). */
export const MEM_FORMULAS: { readonly [k in keyof Required<MemLevels>]: LevelFormula<'MemTotal' | 'MemAvailable'> } = {
  used_pct: { inputs: ['MemTotal', 'MemAvailable'], of: (v) => ratio((v.MemTotal - v.MemAvailable) * 100, v.MemTotal) },
};

/*
 * The deltas each section's formulas read, from two samples' entries (for computeRates). Written
 * out field by field: a literal with named reads is ~4x faster than a loop over the names
 * (measured, ~0.5 µs against ~2 µs a disk per pair). serve-rates.spec holds them and the formulas'
 * `inputs` to the same counters.
 */
export const diskDeltas = (a: DiskstatsEntry, b: DiskstatsEntry): Deltas<DiskField> => ({
  reads_completed: delta(a.reads_completed, b.reads_completed),
  writes_completed: delta(a.writes_completed, b.writes_completed),
  sectors_read: delta(a.sectors_read, b.sectors_read),
  sectors_written: delta(a.sectors_written, b.sectors_written),
  reads_merged: delta(a.reads_merged, b.reads_merged),
  writes_merged: delta(a.writes_merged, b.writes_merged),
  time_reading_ms: delta(a.time_reading_ms, b.time_reading_ms),
  time_writing_ms: delta(a.time_writing_ms, b.time_writing_ms),
  time_doing_ios_ms: delta(a.time_doing_ios_ms, b.time_doing_ios_ms),
  weighted_time_doing_ios_ms: delta(a.weighted_time_doing_ios_ms, b.weighted_time_doing_ios_ms),
});

export const netDeltas = (a: NetdevEntry, b: NetdevEntry): Deltas<NetField> => ({
  rx_bytes: delta(a.rx_bytes, b.rx_bytes),
  tx_bytes: delta(a.tx_bytes, b.tx_bytes),
  rx_packets: delta(a.rx_packets, b.rx_packets),
  tx_packets: delta(a.tx_packets, b.tx_packets),
  rx_errors: delta(a.rx_errors, b.rx_errors),
  tx_errors: delta(a.tx_errors, b.tx_errors),
  rx_dropped: delta(a.rx_dropped, b.rx_dropped),
  tx_dropped: delta(a.tx_dropped, b.tx_dropped),
});

export const cpuDeltas = (a: CpuTimes, b: CpuTimes): Deltas<CpuField> => ({
  user: delta(a.user, b.user),
  nice: delta(a.nice, b.nice),
  system: delta(a.system, b.system),
  idle: delta(a.idle, b.idle),
  iowait: delta(a.iowait, b.iowait),
  irq: delta(a.irq, b.irq),
  softirq: delta(a.softirq, b.softirq),
  steal: delta(a.steal, b.steal),
  guest: delta(a.guest, b.guest),
  guest_nice: delta(a.guest_nice, b.guest_nice),
});

type Vmstat = Record<string, Counter> | undefined;
export const vmDeltas = (a: Vmstat, b: Vmstat): Deltas<string> => ({
  pgpgin: delta(a?.pgpgin, b?.pgpgin),
  pgpgout: delta(a?.pgpgout, b?.pgpgout),
  pgfault: delta(a?.pgfault, b?.pgfault),
  pgmajfault: delta(a?.pgmajfault, b?.pgmajfault),
  pswpin: delta(a?.pswpin, b?.pswpin),
  pswpout: delta(a?.pswpout, b?.pswpout),
});

/** Every counter some formula of `formulas` reads, once each. */
export function inputsOf<K extends string>(formulas: { readonly [name: string]: { readonly inputs: readonly K[] } }): K[] {
  return [...new Set(Object.values(formulas).flatMap((f) => f.inputs))];
}
