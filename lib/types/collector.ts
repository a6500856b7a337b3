/** Options and results of the collectors (TimeSeriesCollector, MultiHostTimeSeriesCollector). */
import type { Metric } from './sample.js';
import type { Sink } from './sink.js';
import type { HostEntry, SshOptions } from './hosts.js';
import type { CmdlinePolicy } from './native.js';

/** What happens past `maxSamples`: keep the first ones (as the reference does) or the latest. */
export type OverflowPolicy = 'keep-first' | 'rolling';

export interface Logger {
  warn(message: string): void;
  debug?(message: string): void;
}

export interface CommonOptions {
  intervalSeconds?: number;
  maxSamples?: number;
  overflow?: OverflowPolicy;
  /** Keep only the samples of the last this many seconds too (a rolling window by time). */
  historySeconds?: number;
  logger?: Logger;
}

export interface BaseOptions extends CommonOptions {
  sink?: Sink;
  /** Aborting stops the collector. */
  signal?: AbortSignal;
}

export interface TimeSeriesCollectorOptions {
  /** Seconds between samples (default 10, at least 0.01). */
  intervalSeconds?: number;
  /** Samples kept in memory (default 3600). A sink still receives every sample. */
  maxSamples?: number;
  /** Default 'keep-first', as mlpstorage. */
  overflow?: OverflowPolicy;
  /**
   * Also a rolling window by time: samples taken more than this many seconds before the newest
   * are dropped from memory (default: none; `maxSamples` still bounds the count).
   */
  historySeconds?: number;
  /** /proc files to read (default all). */
  metrics?: readonly Metric[];
  /** Receives every sample as it is collected (e.g. a JSON Lines file). */
  sink?: Sink;
  collectors?: CustomCollector[];
  /**
   * Bound on each custom collector per tick (default: half the interval, at most 10 s). Also
   * bounds how long `stop()` waits for them on the final sample.
   */
  collectorTimeoutMs?: number;
  logger?: Logger;
  /** Aborting stops the collector. */
  signal?: AbortSignal;
  /** Defaults to os.hostname(); a non-empty string. */
  hostname?: string;
  /**
   * Processes whose CPU, memory and I/O each sample carries (`processes`): `"self"`, a PID,
   * `"tree:PID"` (it and every descendant), `"name:fio"`, `"cmd:/train\\.py/"`, or a child process
   * (its tree, and its exit code or signal). More can be added later with `watch()`.
   */
  watch?: readonly WatchTarget[];
  /**
   * What of the watched processes' command lines the samples carry: `redacted` (the default:
   * values of secret-looking arguments become `***`), `full` or `off` (empty). `cmd:` items
   * match the whole line whatever this is.
   */
  cmdline?: CmdlinePolicy;
}

/** A child process as `watch` takes it (Node's ChildProcess is one). */
export interface WatchedChild {
  readonly pid?: number | undefined;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export type WatchTarget = string | number | WatchedChild;

export interface CustomCollector<T = unknown> {
  /** Key under `collectors` (values) and `errors` (failures) in each sample. */
  name: string;
  /** Aborted when the tick's timeout expires or the collector stops. */
  collect(signal: AbortSignal): T | Promise<T>;
}

export interface Aggregate {
  count: number;
  /** Seconds from the first to the last sample the values came from. */
  spanSeconds: number;
  /** NaN when count is 0. */
  avg: number;
  min: number;
  max: number;
  /** Nearest-rank 95th percentile. */
  p95: number;
}

export interface MultiHostTimeSeriesCollectorOptions {
  /** A host spec (see parseHosts), several, or parsed entries. */
  hosts: string | readonly string[] | readonly HostEntry[];
  /** Seconds between samples (default 10, at least 0.05). */
  intervalSeconds?: number;
  /** Samples kept in memory per host (default 3600). A sink still receives every sample. */
  maxSamples?: number;
  overflow?: OverflowPolicy;
  /** Per host, a rolling window by time too (see TimeSeriesCollectorOptions). */
  historySeconds?: number;
  metrics?: readonly Metric[];
  ssh?: SshOptions;
  /** Reach local hosts over SSH too (tests on loopback addresses, containers sharing a kernel). */
  forceSsh?: boolean;
  /**
   * Processes whose CPU, memory and I/O each host's samples carry (`processes`, as locally):
   * `"name:fio"`, a PID (`"pid:1234"` or a number) and, where the remote has bash,
   * `"cmd:/train\\.py/"`. Remote hosts are read through the same loop (no process per tick);
   * `"self"` and `"tree:PID"` name processes of this machine and are refused when a host is
   * remote (local hosts take every item).
   */
  watch?: readonly (string | number)[];
  /** What of the watched processes' command lines the samples carry (as the local collector's `cmdline`). */
  cmdline?: CmdlinePolicy;
  sink?: Sink;
  logger?: Logger;
  /** Aborting stops the collector. */
  signal?: AbortSignal;
}
