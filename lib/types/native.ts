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
}
