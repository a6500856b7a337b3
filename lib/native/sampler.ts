/**
 * The native core from TypeScript: one-shot samples, the /proc parsers, and the sampling
 * thread. Every value is exact: counters above 2^53 - 1 come back as bigint.
 */
import { hostname as osHostname } from 'node:os';

import { InvalidOptionError, NativeError } from '../errors.js';
import { binding, call, toHostseriesError, type NativeBatch } from './binding.js';

export type { NativeBatch, NativeLayout } from './binding.js';
import { decodeBatch, LayoutCache, type DecodedBatch } from './decode.js';
import {
  METRICS,
  type Counter, type DiskstatsEntry, type Loadavg, type Metric, type NetdevEntry, type SampleDict, type StatInfo,
} from '../types.js';

export { decodeBatch, isoSeconds, LayoutCache, type DecodedBatch } from './decode.js';

function checkMetrics(metrics: unknown): Metric[] | undefined {
  if (metrics === undefined) return undefined;
  if (!Array.isArray(metrics) || metrics.length === 0) {
    throw new InvalidOptionError(`metrics must be a non-empty array of ${METRICS.join(', ')}`);
  }
  const list: unknown[] = metrics;
  for (const m of list) {
    if (typeof m !== 'string' || !(METRICS as readonly string[]).includes(m)) {
      throw new InvalidOptionError(`unknown metric ${JSON.stringify(m)}; expected one of ${METRICS.join(', ')}`);
    }
  }
  return [...(list as Metric[])];
}

export interface SampleOnceOptions {
  metrics?: readonly Metric[];
  /** Defaults to os.hostname(), as the reference uses socket.gethostname(). */
  hostname?: string;
}


/**
 * One sample of this host. The reads run on a short-lived native sampler thread (its first
 * sample is taken at once), never on the JS thread.
 */
export async function sampleOnce(options: SampleOnceOptions = {}): Promise<SampleDict> {
  const sampler = new NativeSampler({ intervalMs: 3_600_000, capacity: 1, metrics: options.metrics, hostname: options.hostname });
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

export interface NativeSamplerOptions {
  /** Sampling period in ms, at least 10. */
  intervalMs: number;
  /** Samples held natively between drains; the oldest is dropped (and counted) beyond it. */
  capacity?: number;
  metrics?: readonly Metric[];
  hostname?: string;
}

/**
 * The native sampling thread. `start(onSample?)` begins sampling at once; `drain()` takes what
 * has been stored (one N-API crossing per batch); `stop()` stops at once and returns the rest.
 * It never keeps the process alive, and stops with its worker thread.
 */
export class NativeSampler {
  private readonly raw: InstanceType<ReturnType<typeof binding>['NativeSampler']>;
  private readonly host: string;
  private readonly layouts = new LayoutCache();

  constructor(options: NativeSamplerOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('NativeSampler options must be an object');
    const { intervalMs, capacity } = options;
    if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < 10) {
      throw new InvalidOptionError(`intervalMs must be a number >= 10, got ${String(intervalMs)}`);
    }
    if (capacity !== undefined && (!Number.isInteger(capacity) || capacity < 1 || capacity > 0xffffffff)) {
      throw new InvalidOptionError(`capacity must be a positive integer, got ${String(capacity)}`);
    }
    const metrics = checkMetrics(options.metrics);
    this.host = options.hostname ?? osHostname();
    this.raw = call(() => new (binding().NativeSampler)({ intervalMs, capacity, metrics }));
  }

  get running(): boolean {
    return this.raw.running;
  }

  start(onSample?: () => void): void {
    call(() => this.raw.start(onSample));
  }

  drain(): DecodedBatch {
    return decodeBatch(this.raw.drain(), this.host, this.layouts);
  }

  stop(): DecodedBatch {
    return decodeBatch(this.raw.stop(), this.host, this.layouts);
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

  /** `stop()` without decoding. */
  stopBatch(): NativeBatch {
    return this.raw.stop();
  }
}
