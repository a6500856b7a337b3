/**
 * The sample shapes in the mlpstorage JSON (snake_case, key order as written).
 *
 * Counters are u64 in the kernel. In JS a counter is a `number` while it is at most
 * Number.MAX_SAFE_INTEGER (2^53 - 1) and a `bigint` above, so no digit is ever lost; the JSON
 * writer and reader keep such values exact.
 */
import type { TimeSeriesSample } from '../models/sample.js';
import type { Marker } from './markers.js';

export type Counter = number | bigint;

/** The /proc files the native core reads; `stat` is /proc/stat (CPU time). */
export const METRICS = ['diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat'] as const;
export type Metric = (typeof METRICS)[number];

export interface DiskstatsEntry {
  device_name: string;
  reads_completed: Counter;
  reads_merged: Counter;
  sectors_read: Counter;
  time_reading_ms: Counter;
  writes_completed: Counter;
  writes_merged: Counter;
  sectors_written: Counter;
  time_writing_ms: Counter;
  ios_in_progress: Counter;
  time_doing_ios_ms: Counter;
  weighted_time_doing_ios_ms: Counter;
  discards_completed?: Counter;
  discards_merged?: Counter;
  sectors_discarded?: Counter;
  time_discarding_ms?: Counter;
  flush_requests_completed?: Counter;
  time_flushing_ms?: Counter;
}

export const DISKSTATS_FIELDS = [
  'reads_completed', 'reads_merged', 'sectors_read', 'time_reading_ms',
  'writes_completed', 'writes_merged', 'sectors_written', 'time_writing_ms',
  'ios_in_progress', 'time_doing_ios_ms', 'weighted_time_doing_ios_ms',
  'discards_completed', 'discards_merged', 'sectors_discarded', 'time_discarding_ms',
  'flush_requests_completed', 'time_flushing_ms',
] as const;

export interface NetdevEntry {
  interface_name: string;
  rx_bytes: Counter;
  rx_packets: Counter;
  rx_errors: Counter;
  rx_dropped: Counter;
  rx_fifo: Counter;
  rx_frame: Counter;
  rx_compressed: Counter;
  rx_multicast: Counter;
  tx_bytes: Counter;
  tx_packets: Counter;
  tx_errors: Counter;
  tx_dropped: Counter;
  tx_fifo: Counter;
  tx_collisions: Counter;
  tx_carrier: Counter;
  tx_compressed: Counter;
}

export const NETDEV_FIELDS = [
  'rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'rx_fifo', 'rx_frame', 'rx_compressed', 'rx_multicast',
  'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped', 'tx_fifo', 'tx_collisions', 'tx_carrier', 'tx_compressed',
] as const;

export interface Loadavg {
  load_1min: number;
  load_5min: number;
  load_15min: number;
  running_processes: number;
  total_processes: number;
}

/** One `cpu`/`cpuN` line of /proc/stat, in USER_HZ ticks. */
export interface CpuTimes {
  user: Counter;
  nice: Counter;
  system: Counter;
  idle: Counter;
  iowait: Counter;
  irq: Counter;
  softirq: Counter;
  steal: Counter;
  guest: Counter;
  guest_nice: Counter;
}

export const CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'] as const;

/** /proc/stat, our addition to the mlpstorage format (older readers ignore it). */
export interface StatInfo {
  /** The aggregate `cpu` line. */
  cpu: CpuTimes;
  /** `cpu0`, `cpu1`, ... by name (offline CPUs are absent, as in the file). */
  cpus: Record<string, CpuTimes>;
  intr: Counter;
  ctxt: Counter;
  btime: Counter;
  processes: Counter;
  procs_running: Counter;
  procs_blocked: Counter;
}

/**
 * One watched process at one sample (our addition, written only when processes are watched).
 * `key` stays the same across restarts (`fio`, `fio#2`, `self`); the I/O fields are absent where
 * `/proc/<pid>/io` could not be read.
 */
export interface ProcessEntry {
  key: string;
  pid: number;
  ppid: number;
  /** `comm`, the kernel's 15-byte name. */
  name: string;
  /** Arguments joined by spaces, cut to 512 bytes. */
  cmdline: string;
  /** Start time, ns since 1970 (exact to 256 ns, like `timestamp_ns`). */
  start_time_ns: number;
  /** `R`, `S`, `D`, `Z`, ... as in `/proc/<pid>/stat`. */
  state: string;
  uptime_s: number;
  /** CPU since the previous sample (since the start for a new process); 100 is one whole CPU. */
  cpu_pct: number;
  cpu_user_ticks: Counter;
  cpu_system_ticks: Counter;
  num_threads: Counter;
  rss_kb: Counter;
  /** VmHWM: the largest RSS so far. */
  rss_peak_kb: Counter;
  minor_faults: Counter;
  major_faults: Counter;
  voluntary_ctxt_switches: Counter;
  involuntary_ctxt_switches: Counter;
  read_bytes?: Counter;
  write_bytes?: Counter;
  read_chars?: Counter;
  write_chars?: Counter;
  /** Processes this key had before this one. */
  restarts: number;
  /** How the previous process under this key ended, when known. */
  last_exit_code?: number;
  last_exit_signal?: number;
}

/** The per-sample counters of a process entry, in the order the native side keeps them. */
export const PROCESS_COUNTERS = [
  'cpu_user_ticks', 'cpu_system_ticks', 'num_threads', 'rss_kb', 'rss_peak_kb', 'minor_faults', 'major_faults',
  'voluntary_ctxt_switches', 'involuntary_ctxt_switches',
] as const;
export const PROCESS_IO = ['read_bytes', 'write_bytes', 'read_chars', 'write_chars'] as const;

/** One sample as a plain dict, keys in file order. */
export interface SampleDict {
  timestamp: string;
  /**
   * Wall-clock nanoseconds since the epoch (our addition), a plain number: exact to 256 ns (a
   * double near 2^60), far finer than any sampling interval, and `JSON.stringify` takes it.
   */
  timestamp_ns?: number;
  hostname: string;
  diskstats?: DiskstatsEntry[];
  vmstat?: Record<string, Counter>;
  meminfo?: Record<string, Counter>;
  loadavg?: Loadavg;
  netdev?: NetdevEntry[];
  stat?: StatInfo;
  /** The watched processes alive at this sample (our addition). */
  processes?: ProcessEntry[];
  /** Application counters (`count`) and gauges (`gauge`) at this sample, by name (our addition). */
  app?: Record<string, Counter>;
  /** Values of custom collectors, by collector name (our addition). */
  collectors?: Record<string, unknown>;
  /** source (file or collector name, or `ssh`) → message. */
  errors?: Record<string, string>;
}

/**
 * How a run was collected. mlpstorage writes `local` or `ssh`; its reader defaults a missing
 * value to `unknown`, so a file may hold that too.
 */
export type CollectionMethod = 'local' | 'ssh' | 'unknown';

export interface TimeSeriesDataDict {
  collection_interval_seconds: number;
  start_time: string;
  end_time: string;
  num_samples: number;
  samples_by_host: Record<string, SampleDict[]>;
  collection_method: CollectionMethod;
  hosts_requested: string[];
  hosts_collected: string[];
  /** Our addition, present only when the run has markers. */
  markers?: Marker[];
}

/** What a TimeSeriesSample is built from: the dict's fields, camelCase at the top level. */
export type TimeSeriesSampleInit = Omit<SampleDict, 'timestamp_ns'> & {
  /** Wall-clock nanoseconds since the epoch, a number (exact to 256 ns). */
  timestampNs?: number;
};

export interface TimeSeriesDataInit {
  collectionIntervalSeconds: number;
  /** `YYYY-MM-DDTHH:MM:SSZ` (UTC), or `''` when unknown (as the reference writes it). */
  startTime: string;
  endTime: string;
  /** Defaults to the number of samples in `samplesByHost`. */
  numSamples?: number;
  samplesByHost?: Map<string, TimeSeriesSample[]> | Record<string, TimeSeriesSample[]>;
  /** Defaults to mlpstorage's rule, `TimeSeriesData.collectionMethodFor(hostsCollected)`. */
  collectionMethod?: CollectionMethod;
  hostsRequested?: string[];
  /** Defaults to mlpstorage's rule: the hosts that have at least one sample (error samples count). */
  hostsCollected?: string[];
  /** Labelled instants of the run, in time order (our addition; written only when there are some). */
  markers?: Marker[];
}

/** What a collector knows at the end of a run, for the factories below. */
export interface RunInit {
  collectionIntervalSeconds: number;
  /** `YYYY-MM-DDTHH:MM:SSZ` (UTC), or `''` when unknown. */
  startTime: string;
  endTime: string;
}
