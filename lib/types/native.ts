/** Options of the native sampler and of one-shot samples. */
import type { Metric } from './sample.js';

export interface SampleOnceOptions {
  metrics?: readonly Metric[];
  /** Where the proc filesystem is mounted (default `/proc`; e.g. `/host/proc` in a container). */
  procPath?: string;
  /** Defaults to os.hostname(), as the reference uses socket.gethostname(). */
  hostname?: string;
}

export interface NativeSamplerOptions {
  /** Sampling period in ms, at least 10. */
  intervalMs: number;
  /** Samples held natively between drains; the oldest is dropped (and counted) beyond it. */
  capacity?: number;
  metrics?: readonly Metric[];
  hostname?: string;
  /**
   * Where the proc filesystem is mounted (default `/proc`; e.g. `/host/proc` in a container
   * that samples its host). A file under it that cannot be read is an entry in the sample's
   * `errors`; a directory that cannot be read makes `start()` throw ERR_PROC_READ.
   */
  procPath?: string;
  /**
   * Keep the samples natively as well, compactly (~250 bytes a sample with every metric of a small VM), at most this many
   * (`Infinity`: no bound): `history()` decodes them when asked, and `setFeed(false)` spares the
   * JS thread a wake-up per sample when nothing consumes them live.
   */
  retainSamples?: number;
  /** What a full retention does: keep the first samples (the default) or the latest (`rolling`). */
  overflow?: 'keep-first' | 'rolling';
  /** Also a rolling window by time: only the samples of the last this many seconds are kept (Infinity: none). */
  retainSeconds?: number;
  /** Processes to watch from the first sample on (see `NativeSampler.watch`). */
  watch?: readonly string[];
  /** What of the watched processes' command lines is recorded (see `CmdlinePolicy`; default `redacted`). */
  cmdline?: CmdlinePolicy;
}

/**
 * What of a watched process's command line a sample carries: `redacted` (the default: values of
 * secret-looking arguments, such as `--password=…`, `--token …`, `API_KEY=…`, `user:…@` in a
 * URL, become `***`), `full` (as the process has it) or `off` (an empty `cmdline`). `cmd:/REGEX/`
 * items match the whole command line whatever this is: it never leaves the sampler.
 */
export type CmdlinePolicy = 'redacted' | 'full' | 'off';

/** A native sampler's counters since its start. */
export interface NativeSamplerCounts {
  /** Samples taken. */
  taken: number;
  /** Samples retained (within `retainSamples`). */
  retained: number;
  /** Memory the retained samples take. */
  retainedBytes: number;
  /** Ticks that came due while the machine was too busy to sample. */
  missedTicks: number;
  /** Samples the live feed dropped because nobody drained it in time (still retained). */
  feedDropped: number;
  /** Malformed /proc lines the parsers skipped. */
  skippedLines: number;
}
