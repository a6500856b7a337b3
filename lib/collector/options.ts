/** What the local and multi-host collectors share: option checks, defaults, lifecycle errors. */
import { HostseriesError, InvalidOptionError, LifecycleError } from '../errors.js';
import type { CommonOptions, Logger, OverflowPolicy } from '../types/collector.js';
import type { CmdlinePolicy } from '../types/native.js';

export const defaultLogger: Logger = { warn: (m) => process.emitWarning(m, 'HostseriesWarning') };

/** The shortest sampling interval (the native sampler's 10 ms floor); the CLI uses it too. */
export const MIN_INTERVAL_SECONDS = 0.01;
/**
 * The longest sampling interval: one day. Longer is a typo (`-i 1e9`), not a plan: a run still
 * gets its start and end samples (stop() takes a final one), and one day stays far below the
 * 2^31 - 1 ms (24.8 days) that JS timers accept, so no timer of either collector can overflow.
 */
export const MAX_INTERVAL_SECONDS = 86_400;
/** The longest delay a JS timer takes (longer ones fire at once, with a warning). */
export const MAX_TIMEOUT_MS = 0x7fffffff;

export function atLeast(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InvalidOptionError(`${name} must be a number >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** A finite number in [min, max], named in the error. */
export function between(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidOptionError(`${name} must be a number from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** A timeout in ms for a JS timer: at least 1, at most MAX_TIMEOUT_MS. */
export function timeoutMs(name: string, v: unknown): number {
  return between(name, v, 1, MAX_TIMEOUT_MS);
}

/** A hostname as samples carry it: a non-empty string, without control characters. */
export function checkHostname(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '' || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new InvalidOptionError(`${name} must be a non-empty string without control characters, got ${describe(v)}`);
  }
  return v;
}

/** An input as an error message shows it: strings quoted, so '' is visible. */
function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

/** The checked common options, with defaults: every 10 s, 3600 samples, keep-first. */
export function commonOptions(o: CommonOptions, minInterval: number): Required<CommonOptions> {
  const intervalSeconds = between('intervalSeconds', o.intervalSeconds ?? 10, minInterval, MAX_INTERVAL_SECONDS);
  const maxSamples = o.maxSamples ?? 3600;
  if (!Number.isSafeInteger(maxSamples) || maxSamples < 1) throw new InvalidOptionError(`maxSamples must be a positive integer, got ${describe(maxSamples)}`);
  const overflow = o.overflow ?? 'keep-first';
  if (overflow !== 'keep-first' && overflow !== 'rolling') {
    throw new InvalidOptionError(`overflow must be 'keep-first' or 'rolling', got ${JSON.stringify(overflow)}`);
  }
  const historySeconds = o.historySeconds ?? Infinity;
  if (typeof historySeconds !== 'number' || !(historySeconds > 0)) {
    throw new InvalidOptionError(`historySeconds must be a number of seconds above 0, got ${describe(historySeconds)}`);
  }
  const logger = o.logger ?? defaultLogger;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new InvalidOptionError(`logger must be an object with a warn(message) method, got ${describe(logger)}`);
  }
  return { intervalSeconds, maxSamples, overflow, historySeconds, logger };
}

/** The `cmdline` option: what of the watched processes' command lines is recorded. */
export function cmdlineOption(v: unknown): CmdlinePolicy | undefined {
  if (v === undefined || v === 'redacted' || v === 'full' || v === 'off') return v;
  throw new InvalidOptionError(`cmdline must be 'redacted', 'full' or 'off', got ${describe(v)}`);
}

/** Why `start()` may not run now, if it may not. */
export function startRefusal(state: string, signal: AbortSignal | undefined): LifecycleError | undefined {
  if (state === 'starting' || state === 'running') return new LifecycleError('ERR_ALREADY_STARTED', 'the collector is already running');
  if (state === 'stopped') return new LifecycleError('ERR_ALREADY_STOPPED', 'the collector was stopped; create a new one to collect again');
  if (signal?.aborted) return new LifecycleError('ERR_ALREADY_STOPPED', "the collector's signal is already aborted");
  return undefined;
}

export const notStarted = (what?: string): LifecycleError =>
  new LifecycleError('ERR_NOT_STARTED', `the collector was never started${what ? `: ${what}` : ''}`);

/** The one-time warning when maxSamples is reached. */
export function fullWarning(maxSamples: number, overflow: OverflowPolicy, hasSink: boolean, perHost = false): string {
  const what = overflow === 'rolling' ? 'the oldest samples are now dropped' : 'later samples are not kept in memory';
  return `hostseries: maxSamples (${maxSamples}${perHost ? ' per host' : ''}) reached; ${what}${hasSink ? ' (the sink still receives every sample)' : ''}`;
}

/** Anything thrown by a sink or a callback, as a coded error for the 'error' event. */
export function asHostseriesError(e: unknown): HostseriesError {
  return e instanceof HostseriesError ? e : new HostseriesError('ERR_INTERNAL', String(e), { cause: e });
}

/**
 * A final sample at stop() closer than this to the previous one is not taken: within one 10 ms
 * jiffy its rates are noise. The native sampler's rule (`final_sample_min_gap` in
 * crates/core/src/sampler.rs), for the collectors that tick from JS (remote hosts).
 */
export function finalSampleMinGapMs(intervalMs: number): number {
  return Math.min(intervalMs / 10, 10);
}
