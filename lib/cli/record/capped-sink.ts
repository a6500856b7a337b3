/**
 * The sink `record` hands the collector: a JsonlSink behind a per-host cap (--samples), with
 * a count per host for the status line and the stop condition. Only samples with data count
 * toward the cap: an unreachable host's error samples are written, but never end a recording.
 */
import type { HostseriesError } from '../../errors.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import type { JsonlSink } from '../../files/jsonl-sink.js';
import type { RunMetadata, RunSummary, Sink, SinkEntry } from '../../types/sink.js';

/** A sample that holds only errors (a host that could not be read): no section of data. */
export function isErrorSample(s: TimeSeriesSample): boolean {
  return s.errors !== undefined && s.diskstats === undefined && s.vmstat === undefined && s.meminfo === undefined
    && s.loadavg === undefined && s.netdev === undefined && s.stat === undefined && s.collectors === undefined;
}

export class CappedSink implements Sink {
  private readonly counts = new Map<string, number>();
  private total = 0;

  constructor(
    readonly inner: JsonlSink,
    private readonly cap: number,
    private readonly onSample: (host: string, sample: TimeSeriesSample) => void = () => undefined,
  ) {}

  get unwritten(): readonly SinkEntry[] {
    return this.inner.unwritten;
  }

  /** Samples written, all hosts. */
  get samples(): number {
    return this.total;
  }

  /** Samples with data written for `host`. */
  count(host: string): number {
    return this.counts.get(host) ?? 0;
  }

  on(event: 'error', listener: (error: HostseriesError) => void): this {
    this.inner.on(event, listener);
    return this;
  }

  off(event: 'error', listener: (error: HostseriesError) => void): this {
    this.inner.off(event, listener);
    return this;
  }

  open(meta: RunMetadata): Promise<void> {
    return this.inner.open(meta);
  }

  write(sample: TimeSeriesSample, host: string = sample.hostname): void {
    const n = this.count(host);
    if (n >= this.cap) return;
    if (!isErrorSample(sample)) this.counts.set(host, n + 1);
    this.total++;
    this.inner.write(sample, host);
    this.onSample(host, sample);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(summary: RunSummary): Promise<void> {
    return this.inner.close({ ...summary, numSamples: this.total });
  }
}
