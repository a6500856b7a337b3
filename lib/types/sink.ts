/**
 * Sink: where a recording goes while it runs. A collector calls, in this order:
 *
 *   1. `await open(meta)` once, before the first sample. Rejects with a FileError if the
 *      destination cannot be created.
 *   2. `write(sample, host)` for each sample as it arrives (`host` is the host as requested; it
 *      defaults to `sample.hostname`). It never blocks and never throws for I/O (only when called
 *      before `open` or after `close`): the sample is queued and written right after the current
 *      event-loop turn, together with the other samples of that turn.
 *   3. `await flush()` whenever everything written so far must be on disk (optional).
 *   4. `await close(summary)` once at the end.
 *
 * A failing disk never loses a sample. The failure is a FileError naming the path; it is emitted
 * as an 'error' event when someone listens, and it rejects the next `flush()`/`close()`. Every
 * sample not known to be on disk stays in `unwritten`, for the caller to keep or write elsewhere.
 */
import type { Marker } from './markers.js';
import type { HostseriesError } from '../errors.js';
import type { TimeSeriesSample } from '../models/sample.js';
import type { CollectionMethod } from './sample.js';

/** What is known when a run starts (the header of a streamed file). */
export interface RunMetadata {
  collectionIntervalSeconds: number;
  /** `YYYY-MM-DDTHH:MM:SSZ` (UTC). */
  startTime: string;
  collectionMethod: CollectionMethod;
  hostsRequested: readonly string[];
}

/** What is known when a run ends (the footer). */
export interface RunSummary {
  endTime: string;
  /** Defaults to the hosts the sink received samples for, in first-seen order. */
  hostsCollected?: readonly string[];
  /** Defaults to the number of samples the sink received. */
  numSamples?: number;
  /** Supersedes the one given to `open` (mlpstorage's rule depends on the hosts collected). */
  collectionMethod?: CollectionMethod;
}

export interface SinkEntry {
  host: string;
  sample: TimeSeriesSample;
}

export interface Sink {
  /** Hear write failures as they happen (a FileError naming the path); `off` to stop. */
  on(event: 'error', listener: (error: HostseriesError) => void): unknown;
  off(event: 'error', listener: (error: HostseriesError) => void): unknown;
  open(meta: RunMetadata): Promise<void>;
  write(sample: TimeSeriesSample, host?: string): void;
  flush(): Promise<void>;
  close(summary: RunSummary): Promise<void>;
  /** Samples received but not (yet) known to be on disk, in arrival order. */
  readonly unwritten: readonly SinkEntry[];
  /** Keep a marker in the stream (optional: a sink without it keeps none). */
  mark?(marker: Marker): void;
}
