/**
 * TimeSeriesCollector: the local collector a benchmark harness uses. `start()` samples at once
 * and then every interval on the native thread (drift-free); `stop()` takes one last sample
 * there, so the run is covered to its end, and returns promptly with every sample. Samples are
 * kept by the native sampler, compactly, and become objects only when asked for: with nothing
 * consuming samples live (a sink, a listener, an iterator, a custom collector), no JS runs per
 * sample at all.
 */
import { EventEmitter } from 'node:events';
import { hostname as osHostname } from 'node:os';
import { newMarker } from '../models/markers.js';
import type { Marker } from '../types/markers.js';

import { HostseriesError, LifecycleError } from '../errors.js';
import { TimeSeriesData } from '../models/data.js';
import { TimeSeriesSample } from '../models/sample.js';
import { NativeSampler } from '../native/sampler.js';
import { nativeStreamable, type NativeStreamable } from '../files/native-stream.js';
import { isoSeconds, type SectionFilter } from '../native/decode.js';
import type { NativeBatch } from '../native/binding.js';
import { computeRates, intervalSeconds } from '../rates/compute.js';
import type { Metric, SampleDict } from '../types/sample.js';
import { checkPath, sectionsOf, series, summarize } from './aggregate.js';
import { atLeast, checkHostname, cmdlineOption, notStarted, startRefusal, timeoutMs } from './options.js';
import { CollectorBase } from './base.js';
import { checkCollectors, runCollectors } from './custom.js';
import { KeepAlive } from './keep-alive.js';
import { LiveStream } from './stream.js';
import { watchTargets } from './watch.js';
import type { Aggregate, CustomCollector, TimeSeriesCollectorOptions, WatchTarget } from '../types/collector.js';
import type { Rates } from '../types/rates.js';


/** What custom collectors add to a sample (kept in JS: the native side cannot know it). */
interface Extras {
  errors?: Record<string, string>;
  collectors?: Record<string, unknown>;
}

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

  /** Built (and its options checked) with the collector; it keeps the samples, also after stop(). */
  private readonly native: NativeSampler;
  /** The native sampler while it runs. */
  private sampler: NativeSampler | undefined;
  /** Custom collectors' values and errors, by sample sequence number. */
  private readonly extras = new Map<number, Extras>();
  private readonly live = new LiveStream<TimeSeriesSample>(() => this.updateFeed());
  private readonly halt = new AbortController();
  /** Holds the event loop open for a live consumer, or while `start()` waits for the first sample. */
  private readonly keepAlive = new KeepAlive();
  /** Set while `start()` waits for the first sample to be taken and accepted. */
  private onFirst: (() => void) | undefined;
  /** Custom collectors make ingestion async; this keeps samples in order. */
  private chain: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  /** Live-feed drops already reported. */
  private feedDropped = 0;
  /** The sink whose stream the native sampler writes (no JS per sample for it). */
  private stream: NativeStreamable | undefined;
  /** Markers taken with mark(), in order. */
  private readonly markers: Marker[] = [];

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
    // The live feed holds ten minutes of samples in case the JS thread is busy for a while.
    const capacity = Math.min(1_000_000, Math.max(1024, Math.ceil(600 / this.intervalSeconds)));
    this.native = new NativeSampler({
      intervalMs: this.intervalSeconds * 1000,
      capacity,
      metrics: this.metrics,
      hostname: this.hostname,
      retainSamples: this.maxSamples,
      overflow: this.overflow,
      retainSeconds: this.historySeconds,
      cmdline: cmdlineOption(options.cmdline),
    });
    if (options.watch !== undefined) watchTargets(this.native, options.watch, 'watch');
    // EventEmitter's own events are outside the typed map.
    const self = this as unknown as EventEmitter;
    self.on('newListener', () => queueMicrotask(() => this.updateFeed()));
    self.on('removeListener', () => this.updateFeed());
  }

  /**
   * Feed the JS thread every sample only when something consumes samples live (a sink, a
   * custom collector, a listener, an iterator); otherwise samples stay native and the JS thread
   * is not woken at all (measured: a cold JS wake costs several times the sample itself).
   */
  private updateFeed(): void {
    const consumer = this.live.active || this.listenerCount('sample') > 0;
    const live = this.onFirst !== undefined || this.jsSink() || this.collectors.length > 0 || consumer;
    this.sampler?.setFeed(live);
    // The native thread never holds the process; a live consumer (or a pending start()) does.
    this.keepAlive.set(this.onFirst !== undefined || (this.state === 'running' && consumer));
  }

  /** A sink that JS writes (not one whose stream the native sampler writes). */
  private jsSink(): boolean {
    return this.sink !== undefined && this.stream === undefined;
  }

  /** Take what the live feed holds now, and say what the counters tell. */
  private pull(): void {
    this.stream?.nativeCheck();
    // Said once by the sampling thread (the descriptor limit of watched processes).
    for (const w of this.sampler?.takeWarnings() ?? []) this.logger.warn(`hostseries: ${w}`);
    const batch = this.sampler?.drainBatch();
    const n = batch?.seqs.length ?? 0;
    // A fed batch carries the counts (no second crossing per live sample); an empty one is a
    // wake-up without the feed (maxSamples passed) or a question: ask.
    const taken = n > 0 ? batch!.seqs[n - 1] + 1 : this.native.counts().taken;
    const feedDropped = batch?.dropped ?? 0;
    if (batch) this.ingest(batch);
    if (taken > this.maxSamples) this.warnFull();
    if (feedDropped > this.feedDropped) {
      const n = feedDropped - this.feedDropped;
      this.feedDropped = feedDropped;
      this.report(new LifecycleError('ERR_LIVE_OVERRUN', `hostseries: the JS thread was too busy to take ${n} sample${n === 1 ? '' : 's'} live; the sink, listeners and iterators missed ${n === 1 ? 'it' : 'them'} (memory keeps ${n === 1 ? 'it' : 'them'} within maxSamples)`));
    }
  }

  /**
   * Watch more processes from the next sample on (see the `watch` option), e.g. a child the
   * harness spawns after `start()`.
   */
  watch(...targets: WatchTarget[]): void {
    watchTargets(this.native, targets, 'watch()');
  }

  /**
   * For a harness that made this process a child subreaper (`setChildSubreaper()`) before
   * spawning `root`: our children other than `root` and `exclude` (its own other children) are
   * orphans of `root`'s tree, re-parented to us; they join the watched tree `tree:<root>` (see
   * `watch`), and are reaped once they end. From the next sample on; false before `start()`.
   */
  adoptOrphans(root: number, exclude: readonly number[] = []): boolean {
    return this.native.adoptOrphans(root, exclude);
  }

  /**
   * Add `n` (default 1, a whole number) to the application counter `name`: from the next
   * sample on, samples carry its value in `app`, and rates give `rates.app.<name>_s`. Costs one
   * native call, no per-sample work in JS.
   */
  count(name: string, n = 1): void {
    this.native.count(name, n);
  }

  /** Set the application gauge `name` (any finite number): samples carry its latest value in `app`. */
  gauge(name: string, value: number): void {
    this.native.gauge(name, value);
  }

  /**
   * Mark this instant with `label` (the start of a phase, an epoch's end): the marker is kept in
   * `toTimeSeriesData().markers` and in the sink's stream, and every view can cut to the window
   * between two markers (`hostseries show --between start end`). Returns the marker.
   */
  mark(label: string): Marker {
    const m = newMarker(label);
    this.markers.push(m);
    this.sink?.mark?.(m);
    return m;
  }

  /** Ticks that came due while the machine was too busy to sample (never hidden). */
  get missedTicks(): number {
    return this.native.counts().missedTicks;
  }

  /** Samples not kept in memory (past `maxSamples`). */
  get droppedSamples(): number {
    const c = this.native.counts();
    return c.taken - c.retained;
  }

  /** Samples collected since start (kept or not). */
  get sampleCount(): number {
    return this.native.counts().taken;
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
    const first = new Promise<void>((resolve) => { this.onFirst = resolve; });
    // A stream's lines need no JS: the native sampler appends them (custom collectors' values
    // exist only in JS, so with those the sink is written from here).
    const streamable = this.collectors.length === 0 ? nativeStreamable(this.sink) : undefined;
    const target = streamable?.nativeTarget();
    try {
      sampler.start(() => this.pull(), target && { ...target, host: this.hostname, hostname: this.hostname });
      if (streamable && target) {
        this.stream = streamable;
        streamable.adoptNative({
          status: () => sampler.streamStatus() ?? { written: 0, accepted: 0, goodBytes: target.goodBytes },
          unwritten: () => sampler.decode(sampler.streamUnwrittenBatch()).samples
            .map((d) => ({ host: this.hostname, sample: TimeSeriesSample.fromTrustedDict(d) })),
          appendLine: (line) => sampler.streamAppendLine(line),
        });
      }
    } catch (e) {
      // Nothing was sampled: end cleanly (the sink gets its footer) and let start() throw.
      this.onFirst = undefined;
      await this.stop().catch((err: unknown) => this.report(err));
      throw e;
    }
    this.sampler = sampler;
    // Woken once when maxSamples is first passed, to say so then.
    sampler.setWakeAt(this.maxSamples + 1);
    this.updateFeed();
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
        // The native writer has ended with the thread (everything written and synced).
        this.stream?.nativeEnded();
      }
    }
    await this.chain;
    this.firstDone();
    this.ended = new Date();
    const collected = this.native.counts().taken;
    try {
      await this.sink?.close({
        endTime: isoSeconds(this.ended.getTime()),
        numSamples: collected,
        hostsCollected: collected > 0 ? [this.hostname] : [],
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
    checkPath(metric);
    // A value of the samples is read from the native columns; rates decode only the sections
    // they need. Either way an hour of samples answers in milliseconds (bench/process-query.mjs).
    const { values, spanSeconds } = metric.startsWith('rates.') || metric.startsWith('collectors.')
      ? series(this.window(options.lastSeconds, sectionsOf(metric)), metric)
      : this.native.valuesAt(this.windowBatch(options.lastSeconds), metric);
    return summarize(values, spanSeconds);
  }

  toTimeSeriesData(): TimeSeriesData {
    // mlpstorage's single-host shape (lib/models/data.ts): {hostname: samples}, even when empty.
    const data = TimeSeriesData.forLocalHost({
      collectionIntervalSeconds: this.intervalSeconds,
      startTime: this.started ? isoSeconds(this.started.getTime()) : '',
      endTime: this.ended ? isoSeconds(this.ended.getTime()) : '',
      hostname: this.hostname,
      samples: this.history(),
    });
    data.markers = [...this.markers];
    return data;
  }

  /** The last `n` samples collected, kept or not. */
  private tail(n: 1 | 2): SampleDict[] {
    this.pull();
    return this.decode(this.native.tailBatch(n));
  }

  private window(lastSeconds: number | undefined, only?: SectionFilter): SampleDict[] {
    return this.decode(this.windowBatch(lastSeconds), only);
  }

  private windowBatch(lastSeconds: number | undefined): NativeBatch {
    this.pull();
    const within = lastSeconds === undefined ? undefined : atLeast('lastSeconds', lastSeconds, 0);
    return this.native.historyBatch({ lastSeconds: within });
  }

  /** A batch of this collector's samples as dicts (only some sections, if asked), with what custom collectors added. */
  private decode(batch: NativeBatch, only?: SectionFilter): SampleDict[] {
    const { samples, seqs } = this.native.decode(batch, only);
    if (this.extras.size > 0) samples.forEach((dict, i) => withExtras(dict, this.extras.get(seqs[i])));
    return samples;
  }

  /** `final`: the batch ends the run, and custom collectors still run for its newest sample. */
  private ingest(batch: NativeBatch | undefined, final = false): void {
    if (!batch || batch.layoutIds.length === 0) return;
    const { samples, seqs } = this.native.decode(batch);
    const n = samples.length;
    if (this.collectors.length === 0) {
      for (let i = 0; i < n; i++) this.accept(samples[i]);
      return;
    }
    // Custom collectors describe "now": run them for the newest sample of the batch only.
    this.chain = this.chain.then(async () => {
      for (let i = 0; i < n - 1; i++) {
        const skipped = Object.fromEntries(this.collectors.map((c) => [c.name, 'not collected: the event loop was busy during this tick']));
        this.accept(samples[i], seqs[i], { errors: skipped });
      }
      const r = this.state === 'running' || final
        ? await runCollectors(this.collectors, this.collectorTimeoutMs, final ? new AbortController().signal : this.halt.signal)
        : { values: {}, errors: Object.fromEntries(this.collectors.map((c) => [c.name, 'not collected: the collector was stopping'])) };
      this.accept(samples[n - 1], seqs[n - 1], {
        errors: Object.keys(r.errors).length > 0 ? r.errors : undefined,
        collectors: Object.keys(r.values).length > 0 ? r.values : undefined,
      });
    }).catch((e: unknown) => this.report(e));
  }

  private accept(dict: SampleDict, seq?: number, extras?: Extras): void {
    if (seq !== undefined && extras && (extras.errors || extras.collectors)) this.keepExtras(seq, extras);
    withExtras(dict, extras);
    this.firstDone();
    // Objects are built only for someone who takes them: a sink, a listener, an iterator.
    const wanted = this.jsSink() || this.live.active || this.listenerCount('sample') > 0;
    if (!wanted) return;
    const sample = TimeSeriesSample.fromTrustedDict(dict);
    try {
      if (this.jsSink()) this.sink?.write(sample);
    } catch (e) {
      this.report(e);
    }
    this.live.push(sample);
    if (this.listenerCount('sample') > 0) this.emit('sample', sample);
  }

  /** Keep what custom collectors added, for as long as the sample may be asked for. */
  private keepExtras(seq: number, extras: Extras): void {
    this.extras.set(seq, extras);
    if (this.extras.size <= Math.min(this.maxSamples, 1 << 20) + 64) return;
    const { taken, retained } = this.native.counts();
    // Rolling: the latest `retained` are held; keep-first: the first. The last two, always.
    const [lo, hi] = this.overflow === 'rolling' ? [taken - retained, taken] : [0, retained];
    for (const k of this.extras.keys()) if ((k < lo || k >= hi) && k < taken - 2) this.extras.delete(k);
  }
}

function withExtras(dict: SampleDict, extras: Extras | undefined): SampleDict {
  if (!extras) return dict;
  if (extras.collectors) dict.collectors = extras.collectors;
  if (extras.errors) dict.errors = { ...dict.errors, ...extras.errors };
  return dict;
}
