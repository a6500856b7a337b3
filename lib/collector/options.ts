/** What the local and multi-host collectors share: option checks, defaults, lifecycle errors. */
import { HostseriesError, InvalidOptionError, LifecycleError } from '../errors.js';

/** What happens past `maxSamples`: keep the first ones (as the reference does) or the latest. */
export type OverflowPolicy = 'keep-first' | 'rolling';

export interface Logger {
  warn(message: string): void;
  debug?(message: string): void;
}

export const defaultLogger: Logger = { warn: (m) => process.emitWarning(m, 'HostseriesWarning') };

export function atLeast(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InvalidOptionError(`${name} must be a number >= ${min}, got ${String(v)}`);
  }
  return v;
}

export interface CommonOptions {
  intervalSeconds?: number;
  maxSamples?: number;
  overflow?: OverflowPolicy;
  logger?: Logger;
}

/** The checked common options, with defaults: every 10 s, 3600 samples, keep-first. */
export function commonOptions(o: CommonOptions, minInterval: number): Required<CommonOptions> {
  const intervalSeconds = atLeast('intervalSeconds', o.intervalSeconds ?? 10, minInterval);
  const maxSamples = o.maxSamples ?? 3600;
  if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new InvalidOptionError(`maxSamples must be a positive integer, got ${String(maxSamples)}`);
  const overflow = o.overflow ?? 'keep-first';
  if (overflow !== 'keep-first' && overflow !== 'rolling') {
    throw new InvalidOptionError(`overflow must be 'keep-first' or 'rolling', got ${JSON.stringify(overflow)}`);
  }
  return { intervalSeconds, maxSamples, overflow, logger: o.logger ?? defaultLogger };
}

/** Why `start()` may not run now, if it may not. */
export function startRefusal(state: string, signal: AbortSignal | undefined): LifecycleError | undefined {
  if (state === 'starting' || state === 'running') return new LifecycleError('ERR_ALREADY_STARTED', 'the collector is already running');
  if (state === 'stopped') return new LifecycleError('ERR_ALREADY_STOPPED', 'the collector was stopped; create a new one to collect again');
  if (signal?.aborted) return new LifecycleError('ERR_ALREADY_STOPPED', "the collector's signal is already aborted");
  return undefined;
}

export const notStarted = (): LifecycleError => new LifecycleError('ERR_NOT_STARTED', 'the collector was never started');

/** The one-time warning when maxSamples is reached. */
export function fullWarning(maxSamples: number, overflow: OverflowPolicy, hasSink: boolean, perHost = false): string {
  const what = overflow === 'rolling' ? 'the oldest samples are now dropped' : 'later samples are not kept in memory';
  return `hostseries: maxSamples (${maxSamples}${perHost ? ' per host' : ''}) reached; ${what}${hasSink ? ' (the sink still receives every sample)' : ''}`;
}

/** Anything thrown by a sink or a callback, as a coded error for the 'error' event. */
export function asHostseriesError(e: unknown): HostseriesError {
  return e instanceof HostseriesError ? e : new HostseriesError('ERR_INTERNAL', String(e), { cause: e });
}
