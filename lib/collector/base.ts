/**
 * What the local and the multi-host collector share: the common options, the lifecycle state
 * and its times, and how failures and the maxSamples bound are reported.
 */
import { EventEmitter } from 'node:events';

import { InvalidOptionError, type HostseriesError } from '../errors.js';
import type { Sink } from '../types/sink.js';
import { asHostseriesError, commonOptions, fullWarning, notStarted } from './options.js';
import type { LiveStream } from './stream.js';
import type { BaseOptions, Logger, OverflowPolicy } from '../types/collector.js';

export type CollectorState = 'idle' | 'starting' | 'running' | 'stopped';

function checkSink(sink: unknown): Sink | undefined {
  if (sink === undefined) return undefined;
  const methods = ['open', 'write', 'flush', 'close', 'on', 'off'] as const;
  const missing = typeof sink === 'object' && sink !== null
    ? methods.filter((m) => typeof (sink as Record<string, unknown>)[m] !== 'function')
    : methods;
  if (missing.length > 0) {
    throw new InvalidOptionError(`sink must be a Sink (e.g. new JsonlSink(path)); it lacks ${missing.map((m) => `${m}()`).join(', ')}`);
  }
  return sink as Sink;
}

export abstract class CollectorBase<E extends Record<keyof E, unknown[]>> extends EventEmitter<E> {
  readonly intervalSeconds: number;
  readonly maxSamples: number;
  readonly overflow: OverflowPolicy;
  /** The rolling window by time (Infinity: none). */
  readonly historySeconds: number;
  protected readonly logger: Logger;
  protected readonly sink: Sink | undefined;
  protected readonly signal: AbortSignal | undefined;
  protected state: CollectorState = 'idle';
  protected started: Date | undefined;
  protected ended: Date | undefined;
  private warnedFull = false;

  protected constructor(options: BaseOptions, minIntervalSeconds: number) {
    super();
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('collector options must be an object');
    ({ intervalSeconds: this.intervalSeconds, maxSamples: this.maxSamples, overflow: this.overflow, historySeconds: this.historySeconds, logger: this.logger } =
      commonOptions(options, minIntervalSeconds));
    this.sink = checkSink(options.sink);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new InvalidOptionError('signal must be an AbortSignal (e.g. from new AbortController())');
    }
    this.signal = options.signal;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  get startTime(): Date | undefined {
    return this.started;
  }

  get endTime(): Date | undefined {
    return this.ended;
  }

  abstract stop(): Promise<unknown>;

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.state === 'running' || this.state === 'starting') await this.stop();
  }

  /**
   * `for await` over the collector. Iterating a collector that is never started would wait for
   * ever (and a script whose only work it is would just end): refused with ERR_NOT_STARTED unless
   * start() is called in the same turn (subscribing first, so that no sample is missed, works).
   */
  protected iterateLive<T>(live: LiveStream<T>): AsyncGenerator<T, void, undefined> {
    // Subscribed at the first next(), before the check: a sample start() takes meanwhile is kept.
    return live.iterate(async () => {
      if (this.state === 'idle') await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.state === 'idle') throw notStarted('iterating (for await) needs start() first');
    });
  }

  /** To the 'error' listeners, or to the logger when nobody listens (never an unheard throw). */
  protected report(e: unknown): void {
    const err: HostseriesError = asHostseriesError(e);
    // EventEmitter's typed map does not know that every collector has an 'error' event.
    const self = this as unknown as EventEmitter;
    if (self.listenerCount('error') > 0) self.emit('error', err);
    else this.logger.warn(err.message);
  }

  /** Once per collector, when maxSamples is first exceeded. */
  protected warnFull(perHost = false): void {
    if (this.warnedFull) return;
    this.warnedFull = true;
    this.logger.warn(fullWarning(this.maxSamples, this.overflow, this.sink !== undefined, perHost));
  }
}
