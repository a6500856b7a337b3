/**
 * The sink `record` hands the collector: a JsonlSink behind a per-host cap (--samples), with
 * a count per host for the status line and the stop condition. Only samples with data count
 * toward the cap: an unreachable host's error samples are written, but never end a recording.
 * A local recording's stream is written by the native sampler (native-stream.ts), the cap
 * included; the counts then come from it.
 */
import type { HostseriesError } from '../../errors.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import type { Marker } from '../../types/markers.js';
import type { JsonlSink } from '../../files/jsonl-sink.js';
import type { NativeStreamable, NativeStreamLink, NativeStreamTarget } from '../../files/native-stream.js';
import type { RunMetadata, RunSummary, Sink, SinkEntry } from '../../types/sink.js';

/** A sample that holds only errors (a host that could not be read): no section of data. */
export function isErrorSample(s: TimeSeriesSample): boolean {
  return s.errors !== undefined && s.diskstats === undefined && s.vmstat === undefined && s.meminfo === undefined
    && s.loadavg === undefined && s.netdev === undefined && s.stat === undefined && s.processes === undefined
    && s.app === undefined && s.collectors === undefined;
}

export class CappedSink implements Sink, NativeStreamable {
  private readonly counts = new Map<string, number>();
  private total = 0;
  private native: NativeStreamLink | undefined;
  private nativeCounted = 0;

  /** `onCount(host, sampleMs)`: a sample of `host` taken at `sampleMs` was counted. */
  constructor(
    readonly inner: JsonlSink,
    private readonly cap: number,
    private readonly onCount: (host: string, sampleMs: number) => void = () => undefined,
  ) {}

  nativeTarget(): NativeStreamTarget | undefined {
    const t = this.inner.nativeTarget();
    return t && { ...t, maxSamples: Number.isFinite(this.cap) ? this.cap : undefined };
  }

  adoptNative(link: NativeStreamLink): void {
    this.native = link;
    this.inner.adoptNative(link);
  }

  nativeCheck(): void {
    this.inner.nativeCheck();
    this.refresh();
    const host = this.inner.meta?.hostsRequested[0];
    // Counted since the last check (a getter's refresh tells no one: it must not stop the run).
    if (host === undefined || this.total <= this.nativeCounted) return;
    this.nativeCounted = this.total;
    this.onCount(host, Date.now());
  }

  mark(marker: Marker): void {
    this.inner.mark(marker);
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  nativeEnded(): void {
    this.nativeCheck();
    this.inner.nativeEnded();
  }

  get unwritten(): readonly SinkEntry[] {
    return this.inner.unwritten;
  }

  /** Samples written, all hosts. */
  get samples(): number {
    this.refresh();
    return this.total;
  }

  /** Samples with data written for `host`. */
  count(host: string): number {
    this.refresh();
    return this.counts.get(host) ?? 0;
  }

  /** The native writer's count, without the callback (a getter must not stop the run). */
  private refresh(): void {
    const host = this.inner.meta?.hostsRequested[0];
    if (!this.native || host === undefined) return;
    this.total = this.native.status().accepted;
    this.counts.set(host, this.total);
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
    this.onCount(host, sample.date.getTime());
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(summary: RunSummary): Promise<void> {
    return this.inner.close({ ...summary, numSamples: this.samples });
  }
}
