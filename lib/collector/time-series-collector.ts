/**
 * TimeSeriesCollector: the local collector a benchmark harness uses. `start()` samples at once
 * and then every interval on the native thread (drift-free); `stop()` takes one last sample
 * there, so the run is covered to its end, and returns promptly with every sample. Samples are
 * kept compactly and turned into objects only when asked for.
 */
import { EventEmitter } from 'node:events';
import { hostname as osHostname } from 'node:os';

import { HostseriesError, LifecycleError } from '../errors.js';
import { TimeSeriesData } from '../models/data.js';
import { TimeSeriesSample } from '../models/sample.js';
import { NativeSampler } from '../native/sampler.js';
import { decodeOne, isoSeconds } from '../native/decode.js';
import type { NativeBatch } from '../native/binding.js';
import { computeRates, intervalSeconds } from '../rates/compute.js';
import type { Metric, SampleDict } from '../types/sample.js';
import { series, summarize } from './aggregate.js';
import { atLeast, checkHostname, notStarted, startRefusal, timeoutMs } from './options.js';
import { CollectorBase } from './base.js';
import { CompactSeries, type Extras } from './compact.js';
import { checkCollectors, runCollectors } from './custom.js';
import { KeepAlive } from './keep-alive.js';
import { LiveStream } from './stream.js';
import type { Aggregate, CustomCollector, TimeSeriesCollectorOptions } from '../types/collector.js';
import type { Rates } from '../types/rates.js';


interface Events {
  sample: [TimeSeriesSample];
  error: [HostseriesError];
  stop: [TimeSeriesSample[]];
}

export class TimeSeriesCollector extends CollectorBase<Events> implements AsyncIterable<TimeSeriesSample> {
  readonly hostname: string;
  private readonly metrics: readonly Metric[] | undefined;
  private readonly collectors: CustomCollector[];
  private readonly collectorTimeoutMs: number;

  /** Built (and its options checked) with the collector; its thread runs from start() to stop(). */
  private readonly native: NativeSampler;
  /** The native sampler while it runs. */
  private sampler: NativeSampler | undefined;
  private readonly store: CompactSeries;
  private readonly live = new LiveStream<TimeSeriesSample>(() => this.updateFeed());
  private readonly halt = new AbortController();
  /** Holds the event loop open for a live consumer, or while `start()` waits for the first sample. */
  private readonly keepAlive = new KeepAlive();
  /** Set while `start()` waits for the first sample to be taken and accepted. */
  private onFirst: (() => void) | undefined;
  /** Custom collectors make ingestion async; this keeps samples in order. */
  private chain: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private nativeMissed = 0;
  private nativeDropped = 0;
  private collected = 0;
  /** The last two samples as received (a batch reference each), for current() and rates. */
  private recent: { batch: NativeBatch; i: number; extras: Extras }[] = [];

  private readonly onAbort = (): void => void this.stop().catch((e: unknown) => this.report(e));
  private readonly onSinkError = (e: HostseriesError): void => this.report(e);

  constructor(options: TimeSeriesCollectorOptions = {}) {
    super(options, 0.01);
    this.metrics = options.metrics;
    this.collectors = checkCollectors(options.collectors);
    this.collectorTimeoutMs = options.collectorTimeoutMs === undefined
      ? Math.min(10_000, Math.max(10, this.intervalSeconds * 500))
      : timeoutMs('collectorTimeoutMs', options.collectorTimeoutMs);
    this.hostname = options.hostname === undefined ? osHostname() : checkHostname('hostname', options.hostname);
    this.store = new CompactSeries(this.hostname);
    // Hold ten minutes of samples natively in case the JS thread is busy for a while.
    const capacity = Math.min(1_000_000, Math.max(1024, Math.ceil(600 / this.intervalSeconds)));
    this.native = new NativeSampler({ intervalMs: this.intervalSeconds * 1000, capacity, metrics: this.metrics, hostname: this.hostname });
    // EventEmitter's own events are outside the typed map.
    const self = this as unknown as EventEmitter;
    self.on('newListener', () => queueMicrotask(() => this.updateFeed()));
    self.on('removeListener', () => this.updateFeed());
  }

  /**
   * Wake the JS thread for every sample only when something consumes samples live (a sink, a
   * custom collector, a listener, an iterator); otherwise samples wait natively and are drained
   * every few seconds or when asked for, which saves a thread wake-up per tick.
   */
  private updateFeed(): void {
    const consumer = this.live.active || this.listenerCount('sample') > 0;
    const live = this.onFirst !== undefined || this.sink !== undefined || this.collectors.length > 0 || consumer;
    this.sampler?.setNotifyEvery(live ? 1 : Math.max(1, Math.min(256, Math.round(5 / this.intervalSeconds))));
    // The native thread never holds the process; a live consumer (or a pending start()) does.
    this.keepAlive.set(this.onFirst !== undefined || (this.state === 'running' && consumer));
  }

  /** Take what the native thread holds now, so answers are current. */
  private pull(): void {
    if (this.sampler) this.ingest(this.sampler.drainBatch());
  }

  /** Ticks that came due while the machine was too busy to sample (never hidden). */
  get missedTicks(): number {
    this.pull();
    return this.nativeMissed;
  }

  /** Samples not kept in memory: past `maxSamples`, or a native buffer that overflowed. */
  get droppedSamples(): number {
    this.pull();
    return this.collected - Math.min(this.store.length, this.maxSamples) + this.nativeDropped;
  }

  /** Samples collected since start (kept or not). */
  get sampleCount(): number {
    this.pull();
    return this.collected;
  }

  /** The samples held in memory, oldest first (built on each call: keep the array). */
  get samples(): TimeSeriesSample[] {
    return this.history();
  }

  /**
   * Start sampling: the first sample is taken at once, then one every interval; it resolves
   * once that first sample is in (`current()` has it). With a sink, the sink is opened first,
   * so an unwritable destination fails here, before the benchmark.
   */
  async start(): Promise<void> {
    const refusal = startRefusal(this.state, this.signal);
    if (refusal) throw refusal;
    const sampler = this.native;
    this.state = 'running';
    this.started = new Date();
    if (this.sink) {
      this.sink.on('error', this.onSinkError);
      try {
        await this.sink.open({
          collectionIntervalSeconds: this.intervalSeconds,
          startTime: isoSeconds(this.started.getTime()),
          collectionMethod: 'local',
          hostsRequested: [this.hostname],
        });
      } catch (e) {
        this.state = 'idle';
        this.started = undefined;
        throw e;
      }
      if (this.state !== 'running') return; // stopped while the sink was opening
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.sampler = sampler;
    const first = new Promise<void>((resolve) => { this.onFirst = resolve; });
    this.updateFeed();
    try {
      sampler.start(() => this.pull());
    } catch (e) {
      // Nothing was sampled: end cleanly (the sink gets its footer) and let start() throw.
      this.sampler = undefined;
      await this.stop().catch((err: unknown) => this.report(err));
      throw e;
    }
    await first;
  }

  /** The first sample is in, or the collector stopped before it: `start()` may resolve. */
  private firstDone(): void {
    const resolve = this.onFirst;
    if (!resolve) return;
    this.onFirst = undefined;
    resolve();
    this.updateFeed();
  }

  /**
   * Stop at once (no waiting out the interval) and return every sample kept in memory. The
   * native thread takes one last sample first, so the run is covered to its end (see
   * `NativeSampler.finish`); custom collectors run for it too, bounded by `collectorTimeoutMs`.
   */
  stop(): Promise<TimeSeriesSample[]> {
    if (this.state === 'idle') return Promise.reject(notStarted());
    // Samples are rebuilt per call rather than cached, so the collector never holds them as objects.
    this.stopping ??= this.finish();
    return this.stopping.then(() => this.history());
  }

  private async finish(): Promise<void> {
    this.state = 'stopped';
    this.signal?.removeEventListener('abort', this.onAbort);
    const sampler = this.sampler;
    this.sampler = undefined; // what the final sample's wake-up would drain is taken below
    this.updateFeed();
    // Custom collectors still running for an earlier tick are cut short; the final sample's run afresh.
    this.halt.abort(new LifecycleError('ERR_ALREADY_STOPPED', 'the collector stopped'));
    if (sampler) {
      try {
        // The last read runs on the sampler thread; this only waits for it (well under 1 ms).
        await sampler.finish({ finalSample: true });
      } finally {
        this.ingest(sampler.stopBatch(), true);
      }
    }
    await this.chain;
    this.firstDone();
    this.ended = new Date();
    try {
      await this.sink?.close({
        endTime: isoSeconds(this.ended.getTime()),
        numSamples: this.collected,
        hostsCollected: this.collected > 0 ? [this.hostname] : [],
      });
    } catch (e) {
      // The samples are still here (and in sink.unwritten): report, do not throw them away.
      this.report(e);
    } finally {
      this.sink?.off('error', this.onSinkError);
      this.live.end();
    }
    if (this.listenerCount('stop') > 0) this.emit('stop', this.history());
  }

  [Symbol.asyncIterator](): AsyncIterator<TimeSeriesSample> {
    return this.iterateLive(this.live);
  }

  /** The latest sample, if any. */
  current(): TimeSeriesSample | undefined {
    const last = this.tail(1)[0];
    return last ? TimeSeriesSample.fromTrustedDict(last) : undefined;
  }

  /** Rates between the last two samples (sysstat formulas), if there are two. */
  currentRates(): Rates | undefined {
    const [a, b] = this.tail(2);
    // None across a wall-clock step backwards (computeRates refuses a reversed pair).
    return a && b && intervalSeconds(a, b) >= 0 ? computeRates(a, b) : undefined;
  }

  /** Samples held in memory, optionally only those of the last `lastSeconds`. */
  history(options: { lastSeconds?: number } = {}): TimeSeriesSample[] {
    return this.window(options.lastSeconds).map((d) => TimeSeriesSample.fromTrustedDict(d));
  }

  /** count, span, avg, min, max and p95 of a metric path over the window. */
  aggregate(metric: string, options: { lastSeconds?: number } = {}): Aggregate {
    const { values, spanSeconds } = series(this.window(options.lastSeconds), metric);
    return summarize(values, spanSeconds);
  }

  toTimeSeriesData(): TimeSeriesData {
    // mlpstorage's single-host shape (lib/models/data.ts): {hostname: samples}, even when empty.
    return TimeSeriesData.forLocalHost({
      collectionIntervalSeconds: this.intervalSeconds,
      startTime: this.started ? isoSeconds(this.started.getTime()) : '',
      endTime: this.ended ? isoSeconds(this.ended.getTime()) : '',
      hostname: this.hostname,
      samples: this.history(),
    });
  }

  /** The last `n` (at most 2) samples collected, kept or not. */
  private tail(n: number): SampleDict[] {
    this.pull();
    return this.recent.slice(-n).map(({ batch, i, extras }) => this.decode(batch, i, extras));
  }

  private decode(batch: NativeBatch, i: number, extras: Extras): SampleDict {
    const dict = decodeOne(batch, i, this.store.layouts.get(batch.layoutIds[i]), this.hostname);
    if (extras.collectors) dict.collectors = extras.collectors;
    if (extras.errors) dict.errors = extras.errors;
    return dict;
  }

  private window(lastSeconds: number | undefined): SampleDict[] {
    this.pull();
    // Rolling: the store may hold up to a chunk more than the window shows.
    let from = Math.max(0, this.store.length - this.maxSamples);
    if (lastSeconds !== undefined) from = Math.max(from, this.store.indexWithin(atLeast('lastSeconds', lastSeconds, 0)));
    return [...this.store.dicts(from)].map((s) => s.dict);
  }

  /** `final`: the batch ends the run, and custom collectors still run for its newest sample. */
  private ingest(batch: NativeBatch | undefined, final = false): void {
    if (!batch || batch.layoutIds.length === 0) return;
    this.nativeMissed = batch.missedTicks;
    this.nativeDropped = batch.dropped;
    this.store.addLayouts(batch.layouts);
    const n = batch.layoutIds.length;
    const errors = new Map<number, Record<string, string>>();
    for (const e of batch.errors) (errors.get(e.sample) ?? errors.set(e.sample, {}).get(e.sample)!)[e.source] = e.message;
    if (this.collectors.length === 0) {
      for (let i = 0; i < n; i++) this.accept(batch, i, { errors: errors.get(i) });
      return;
    }
    // Custom collectors describe "now": run them for the newest sample of the batch only.
    this.chain = this.chain.then(async () => {
      for (let i = 0; i < n - 1; i++) {
        const skipped = Object.fromEntries(this.collectors.map((c) => [c.name, 'not collected: the event loop was busy during this tick']));
        this.accept(batch, i, { errors: { ...errors.get(i), ...skipped } });
      }
      const r = this.state === 'running' || final
        ? await runCollectors(this.collectors, this.collectorTimeoutMs, final ? new AbortController().signal : this.halt.signal)
        : { values: {}, errors: Object.fromEntries(this.collectors.map((c) => [c.name, 'not collected: the collector was stopping'])) };
      const errs = { ...errors.get(n - 1), ...r.errors };
      this.accept(batch, n - 1, {
        errors: Object.keys(errs).length > 0 ? errs : undefined,
        collectors: Object.keys(r.values).length > 0 ? r.values : undefined,
      });
    }).catch((e: unknown) => this.report(e));
  }

  private accept(batch: NativeBatch, i: number, extras: Extras): void {
    this.collected++;
    this.store.appendBounded(batch, i, extras, this.maxSamples, this.overflow);
    if (this.collected > this.maxSamples) this.warnFull();
    this.recent = [...this.recent.slice(-1), { batch, i, extras }];
    this.firstDone();
    // Objects are built only for someone who takes them: a sink, a listener, an iterator.
    const wanted = this.sink !== undefined || this.live.active || this.listenerCount('sample') > 0;
    if (!wanted) return;
    const sample = TimeSeriesSample.fromTrustedDict(this.decode(batch, i, extras));
    try {
      this.sink?.write(sample);
    } catch (e) {
      this.report(e);
    }
    this.live.push(sample);
    if (this.listenerCount('sample') > 0) this.emit('sample', sample);
  }

}
