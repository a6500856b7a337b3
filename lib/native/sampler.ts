/**
 * The native core from TypeScript: one-shot samples, the /proc parsers, and the sampling
 * thread. Every value is exact: counters above 2^53 - 1 come back as bigint.
 */
import { hostname as osHostname } from 'node:os';

import { InvalidOptionError, NativeError } from '../errors.js';
import {
  binding, call, toHostseriesError, type NativeBatch, type RawSamplerOptions, type RawStreamOptions, type RawStreamStatus,
} from './binding.js';

export type { NativeBatch, NativeLayout } from './binding.js';
import { decodeBatch, LayoutCache, valuesAt, type DecodedBatch, type SectionFilter } from './decode.js';
import {
  METRICS,
  type Counter, type DiskstatsEntry, type Loadavg, type Metric, type NetdevEntry, type SampleDict, type StatInfo,
} from '../types/sample.js';
import type { CmdlinePolicy, NativeSamplerCounts, NativeSamplerOptions, SampleOnceOptions } from '../types/native.js';

export { decodeBatch, isoSeconds, LayoutCache, type DecodedBatch } from './decode.js';

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isCount = (v: unknown): v is number => v === Infinity || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((m) => typeof m === 'string');
export const isCmdlinePolicy = (v: unknown): v is CmdlinePolicy => v === 'redacted' || v === 'full' || v === 'off';

/**
 * The options as the binding's Rust types take them. Only what that conversion would lose or
 * refuse without naming the option is checked here (a type, a fraction, a negative size); the
 * rules (interval, capacity, metric names) are checked once, by the core, whose errors name
 * these same options (`intervalMs must be at least 10 ms, got 5ms`).
 */
function rawOptions(options: NativeSamplerOptions): RawSamplerOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('NativeSampler options must be an object');
  const { intervalMs, capacity, metrics, procPath, retainSamples, overflow, retainSeconds, watch, cmdline } = options as Partial<Record<keyof NativeSamplerOptions, unknown>>;
  if (typeof intervalMs !== 'number') throw new InvalidOptionError(`intervalMs must be a number, got ${shown(intervalMs)}`);
  if (capacity !== undefined && !isU32(capacity)) {
    throw new InvalidOptionError(`capacity must be a whole number below 2^32, got ${shown(capacity)}`);
  }
  if (metrics !== undefined && !isNames(metrics)) {
    throw new InvalidOptionError(`metrics must be an array of the names ${METRICS.join(', ')}, got ${shown(metrics)}`);
  }
  if (procPath !== undefined && typeof procPath !== 'string') throw new InvalidOptionError(`procPath must be a string, got ${shown(procPath)}`);
  if (retainSamples !== undefined && !isCount(retainSamples)) {
    throw new InvalidOptionError(`retainSamples must be a positive whole number or Infinity, got ${shown(retainSamples)}`);
  }
  if (overflow !== undefined && overflow !== 'keep-first' && overflow !== 'rolling') {
    throw new InvalidOptionError(`overflow must be 'keep-first' or 'rolling', got ${shown(overflow)}`);
  }
  if (retainSeconds !== undefined && !(typeof retainSeconds === 'number' && retainSeconds > 0)) {
    throw new InvalidOptionError(`retainSeconds must be a number of seconds above 0, got ${shown(retainSeconds)}`);
  }
  if (overflow !== undefined && retainSamples === undefined) {
    throw new InvalidOptionError(`overflow applies to retainSamples, which is not given`);
  }
  if (watch !== undefined && !isNames(watch)) throw new InvalidOptionError(`watch must be an array of strings such as "self", "tree:1234" or "name:fio", got ${shown(watch)}`);
  if (cmdline !== undefined && !isCmdlinePolicy(cmdline)) throw new InvalidOptionError(`cmdline must be 'redacted', 'full' or 'off', got ${shown(cmdline)}`);
  return { intervalMs, capacity, metrics: metrics && [...metrics], procPath, retainSamples, overflow, retainSeconds, watch: watch && [...watch], cmdline };
}

/**
 * One sample of this host. The reads run on a short-lived native sampler thread (its first
 * sample is taken at once), never on the JS thread.
 */
export async function sampleOnce(options: SampleOnceOptions = {}): Promise<SampleDict> {
  const sampler = new NativeSampler({ intervalMs: 3_600_000, capacity: 1, metrics: options.metrics, hostname: options.hostname, procPath: options.procPath });
  return new Promise<SampleDict>((resolve, reject) => {
    // The sampler's callback never holds the event loop open; this timer does, until the sample.
    const keepAlive = setTimeout(() => reject(new NativeError('ERR_TIMEOUT', 'no sample from /proc within 60 s')), 60_000);
    const settle = (): void => clearTimeout(keepAlive);
    try {
      sampler.start(() => {
        try {
          const [sample] = sampler.stop().samples;
          if (sample) resolve(sample);
        } catch (e) {
          reject(toHostseriesError(e));
        } finally {
          settle();
        }
      });
    } catch (e) {
      settle();
      reject(toHostseriesError(e));
    }
  });
}

type ProcText = string | Buffer;

function parseSection(metric: Metric, text: ProcText): SampleDict {
  if (typeof text !== 'string' && !Buffer.isBuffer(text)) {
    throw new InvalidOptionError(`parse ${metric}: expected a string or Buffer, got ${typeof text}`);
  }
  return decodeBatch(call(() => binding().parseProc(metric, text)), '').samples[0];
}

export const parseDiskstats = (text: ProcText): DiskstatsEntry[] => parseSection('diskstats', text).diskstats ?? [];
export const parseVmstat = (text: ProcText): Record<string, Counter> => parseSection('vmstat', text).vmstat ?? {};
export const parseMeminfo = (text: ProcText): Record<string, Counter> => parseSection('meminfo', text).meminfo ?? {};
export const parseLoadavg = (text: ProcText): Loadavg => parseSection('loadavg', text).loadavg!;
export const parseNetDev = (text: ProcText): NetdevEntry[] => parseSection('netdev', text).netdev ?? [];
export const parseStat = (text: ProcText): StatInfo => parseSection('stat', text).stat!;

/**
 * The native sampling thread. `start(onSample?)` begins sampling at once; `drain()` takes what
 * has been stored (one N-API crossing per batch); `stop()` stops at once and returns the rest.
 * It never keeps the process alive, and stops with its worker thread.
 */
export class NativeSampler {
  private readonly raw: InstanceType<ReturnType<typeof binding>['NativeSampler']>;
  private readonly host: string;
  private readonly layouts = new LayoutCache();
  /** Application counter and gauge slots by name (registered natively on first use). */
  private readonly appSlots = new Map<string, { slot: number; gauge: boolean }>();
  /** Samples are kept natively (`retainSamples` or `retainSeconds`). */
  private readonly retains: boolean;

  constructor(options: NativeSamplerOptions) {
    const raw = rawOptions(options);
    this.host = options.hostname ?? osHostname();
    this.raw = call(() => new (binding().NativeSampler)(raw));
    this.retains = raw.retainSamples !== undefined || raw.retainSeconds !== undefined;
  }

  get running(): boolean {
    return this.raw.running;
  }

  /**
   * Start sampling; `onSample` is called after each sample drained live (see `setFeed`,
   * `setNotifyEvery`). With `stream`, each sample's line is also appended to that open JSON
   * Lines stream by a native writer thread (internal: the collector hands a JsonlSink's).
   */
  start(onSample?: () => void, stream?: RawStreamOptions): void {
    call(() => this.raw.start(onSample, stream));
  }

  /** The native stream's state, if `start` was given one. */
  streamStatus(): RawStreamStatus | undefined {
    return this.raw.streamStatus() ?? undefined;
  }

  /** The samples the native stream accepted and could not write (after a failure), undecoded. */
  /** Append a whole record line (a marker) to the native stream after the samples so far; false: the caller keeps it. */
  streamAppendLine(line: string): boolean {
    return this.raw.streamAppendLine(line);
  }

  streamUnwrittenBatch(): NativeBatch {
    return this.raw.streamUnwritten();
  }

  drain(): DecodedBatch {
    return decodeBatch(this.raw.drain(), this.host, this.layouts);
  }

  stop(): DecodedBatch {
    return decodeBatch(this.raw.stop(), this.host, this.layouts);
  }

  /**
   * Watch more processes, from the next sample on (or from the first, before `start`): `self`,
   * `N` or `pid:N`, `tree:N` (N and every descendant, also those born later), `name:NAME`
   * (the kernel's `comm`), `cmd:/REGEX/` (over the command line). Samples then carry `processes`.
   */
  watch(items: readonly string[]): void {
    if (!isNames(items)) throw new InvalidOptionError(`watch: expected an array of strings, got ${shown(items)}`);
    call(() => this.raw.watch([...items]));
  }

  /** Add `n` (a whole number ≥ 0) to the application counter `name`; samples carry it in `app`. */
  count(name: string, n = 1): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidOptionError(`count(${shown(name)}, n): n must be a whole number ≥ 0, got ${shown(n)}`);
    this.raw.appAdd(this.appSlot(name, false), n);
  }

  /** Set the application gauge `name` to `value` (a finite number); samples carry it in `app`. */
  gauge(name: string, value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidOptionError(`gauge(${shown(name)}, value): value must be a finite number, got ${shown(value)}`);
    // -0 would read back from any file as 0.
    this.raw.appSet(this.appSlot(name, true), value === 0 ? 0 : value);
  }

  private appSlot(name: string, gauge: boolean): number {
    const known = this.appSlots.get(name);
    if (known !== undefined && known.gauge === gauge) return known.slot;
    if (typeof name !== 'string') throw new InvalidOptionError(`${gauge ? 'gauge' : 'count'}: name must be a string, got ${shown(name)}`);
    // A new name, or one of the other kind: the core registers it or says why not.
    const slot = call(() => this.raw.appSlot(name, gauge));
    this.appSlots.set(name, { slot, gauge });
    return slot;
  }

  /**
   * Our children other than `root` and `exclude` are orphans of `tree:<root>` (this process made
   * itself a child subreaper: `setChildSubreaper`): they join that tree, and are reaped once
   * zombies. False before `start`.
   */
  adoptOrphans(root: number, exclude: readonly number[]): boolean {
    return this.raw.adoptOrphans(root, [...exclude]);
  }

  /** What the sampling thread said to warn of since the last call, each once (the descriptor limit of watched processes). */
  takeWarnings(): string[] {
    return this.raw.takeWarnings();
  }

  /** How a watched process this one spawned ended: its key's `last_exit_code` / `last_exit_signal`. */
  noteExit(pid: number, code: number | null, signal: number | null): void {
    this.raw.noteExit(pid, code ?? undefined, signal ?? undefined);
  }

  /** Call the `onSample` callback only once `n` samples wait undrained (default 1). */
  setNotifyEvery(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError(`notify-every must be a positive integer, got ${String(n)}`);
    this.raw.setNotifyEvery(Math.min(n, 0xffffffff));
  }

  /**
   * `drain()` without decoding: the columns as they crossed from Rust. A layout crosses only
   * in the first batch that uses it; keep them (see LayoutCache).
   */
  drainBatch(): NativeBatch {
    return this.raw.drain();
  }

  /**
   * End the thread without blocking the JS thread: it wakes at once and, with `finalSample`,
   * takes one last sample (skipped if the previous one is under min(interval / 10, 10 ms)
   * old). Resolves once the thread has ended; `stop()` then returns the rest at once.
   */
  finish(options: { finalSample?: boolean } = {}): Promise<void> {
    return call(() => this.raw.finish(options.finalSample === true));
  }

  /** `stop()` without decoding. */
  stopBatch(): NativeBatch {
    return this.raw.stop();
  }

  /**
   * Feed `drain()` (the default) or not. With `retainSamples`, samples are kept either way:
   * turn the feed off while nothing consumes samples live, and the JS thread is not woken.
   */
  setFeed(on: boolean): void {
    // Without a retention, a sample not fed would be lost without a trace.
    if (!on && !this.retains) throw new InvalidOptionError('setFeed(false) needs retainSamples or retainSeconds: without them the samples not fed would be lost');
    this.raw.setFeed(on);
  }

  /** Call `onSample` once when the `n`th sample has been taken (Infinity: never). */
  setWakeAt(n: number): void {
    this.raw.setWakeAt(n);
  }

  /**
   * The retained samples (see `retainSamples`), oldest first, decoded now; from sequence number
   * `fromSeq` on, and with `lastSeconds` only those taken that long or less before the newest.
   * Also after `stop()`.
   */
  history(options: { fromSeq?: number; lastSeconds?: number } = {}): DecodedBatch {
    return decodeBatch(this.historyBatch(options), this.host, this.layouts);
  }

  /** `history()` without decoding. */
  historyBatch(options: { fromSeq?: number; lastSeconds?: number } = {}): NativeBatch {
    if (!this.retains) throw new InvalidOptionError('history() needs retainSamples or retainSeconds: this sampler keeps no samples');
    const { fromSeq = 0, lastSeconds } = options;
    return this.raw.history(fromSeq, lastSeconds === undefined ? undefined : lastSeconds * 1000);
  }

  /** The last `n` (1 or 2) samples taken, retained or not, without decoding. */
  tailBatch(n: 1 | 2): NativeBatch {
    return this.raw.tail(n);
  }

  /** The values of one sample path (`meminfo.MemFree`, `processes.fio.cpu_pct`) over a batch this sampler gave, decoding nothing else. */
  valuesAt(batch: NativeBatch, path: string): { values: number[]; spanSeconds: number } {
    return valuesAt(batch, this.layouts, path);
  }

  /** Decode a batch this sampler gave (its layouts were kept as they crossed); with `only`, only those sections. */
  decode(batch: NativeBatch, only?: SectionFilter): DecodedBatch {
    return decodeBatch(batch, this.host, this.layouts, only);
  }

  counts(): NativeSamplerCounts {
    return this.raw.counts();
  }
}

/**
 * Make this process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): orphans of its
 * descendants are re-parented to it, not to init. Undefined, or why it could not be.
 */
export function setChildSubreaper(): string | undefined {
  return binding().setChildSubreaper() ?? undefined;
}
