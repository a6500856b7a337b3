/** Derived rates (sysstat's formulas) and what they are computed from. */
import type { SampleDict } from './sample.js';

/** iostat -x columns (`/` and `-` spelled `_`); kB are 1024 bytes, sectors 512 bytes. */
export interface DiskRates {
  r_s?: number;
  w_s?: number;
  /** r_s + w_s */
  iops?: number;
  rkB_s?: number;
  wkB_s?: number;
  rMB_s?: number;
  wMB_s?: number;
  rrqm_s?: number;
  wrqm_s?: number;
  /** ms per completed read / write */
  r_await?: number;
  w_await?: number;
  /** average queue size */
  aqu_sz?: number;
  /** % of the interval the device was busy (capped at 100) */
  util?: number;
}

export interface NetRates {
  rx_bytes_s?: number;
  tx_bytes_s?: number;
  rx_packets_s?: number;
  tx_packets_s?: number;
  rx_errors_s?: number;
  tx_errors_s?: number;
  rx_dropped_s?: number;
  tx_dropped_s?: number;
}

/** Percent of CPU time, as sar -u ALL: usr excludes guest, nice excludes guest_nice. */
export interface CpuRates {
  usr?: number;
  nice?: number;
  sys?: number;
  iowait?: number;
  irq?: number;
  soft?: number;
  steal?: number;
  guest?: number;
  idle?: number;
  /** 100 - idle - iowait */
  busy?: number;
}

export interface MemLevels {
  /** (MemTotal - MemAvailable) / MemTotal, % */
  used_pct?: number;
}

export interface VmRates {
  pgpgin_s?: number;
  pgpgout_s?: number;
  fault_s?: number;
  majflt_s?: number;
  pswpin_s?: number;
  pswpout_s?: number;
}

/** A watched process over the interval, as pidstat -urdw prints it (the same process at both ends). */
export interface ProcRates {
  /** 100 is one whole CPU (the sample's own `cpu_pct`). */
  cpu_pct?: number;
  usr_pct?: number;
  sys_pct?: number;
  minflt_s?: number;
  majflt_s?: number;
  rss_MB?: number;
  /** Storage I/O (`read_bytes`, `write_bytes` of /proc/<pid>/io), where readable. */
  rMB_s?: number;
  wMB_s?: number;
  cswch_s?: number;
  nvcswch_s?: number;
}

export interface Rates {
  intervalSeconds: number;
  disk: Record<string, DiskRates>;
  net: Record<string, NetRates>;
  /** `all` for the aggregate line, `cpu0`... per CPU. */
  cpu: Record<string, CpuRates>;
  mem: MemLevels;
  vm: VmRates;
  /** Watched processes by key (only where the key's process is the same at both ends). */
  proc: Record<string, ProcRates>;
  /** Application values by name: `<name>_s`, per second (for values that did not go down). */
  app: Record<string, number>;
}

/** What rates read from a sample: a SampleDict or a TimeSeriesSample alike. */
export type RateInput = Pick<SampleDict, 'timestamp' | 'diskstats' | 'netdev' | 'stat' | 'meminfo' | 'vmstat' | 'processes' | 'app'> & {
  /** A number (a bigint, as older versions gave, is accepted too). */
  timestamp_ns?: number | bigint;
  timestampNs?: number | bigint;
};

export interface IntervalOptions {
  /**
   * The spacing the samples were taken at (a file's `collection_interval_seconds`, times the
   * number of ticks between the two samples). Used when the samples have only whole-second
   * timestamps (every mlpstorage file) and those are consistent with it: they cannot resolve a
   * 0.5 s step (they differ by 0 or 1 s), nor a 1.02 s one (1 or 2 s).
   */
  nominalSeconds?: number;
}
