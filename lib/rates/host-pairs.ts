/**
 * A host's samples with data, each paired with the one before it that has data (the first with
 * itself, for its levels), their rates and headline figures computed once for everyone who reads
 * them: the report's series and its summary read the same pairs (they were computed twice before,
 * and the headline three times). Timed as `summary` times them: a file with only whole-second
 * stamps uses its nominal interval times the ticks between the two.
 *
 * The rates go to a visitor as they are made and are not kept: kept, an hour of them outlived the
 * young generation and the collector copied them (measured, 16 host-hours: GC 28% of the build
 * with them kept, 7% without).
 */
import type { TimeSeriesSample } from '../models/sample.js';
import type { Rates } from '../types/rates.js';
import { countedInterface, wholeDisks } from '../cli/view/devices.js';
import { HEADLINE_METRICS, headline, type Headline } from '../cli/view/headline.js';
import { dataTicks } from '../views/intervals.js';
import { scopedRates, type RatesScope } from './compute.js';

/**
 * `all`: every rate, as computeRates gives it. `report`: what the report and the summary's figures
 * read (whole disks, counted interfaces, all CPUs together, no vm), each figure the same.
 */
export type PairsScope = 'all' | 'report';

/** Sees pair `i`'s rates and headline (data[i - 1] → data[i]; pair 0: data[0] with itself). */
export type PairVisitor = (i: number, r: Rates, h: Headline) => void;

/** Made from `samples` in time order and the file's interval; `compute()` fills in the pairs' figures. */
export class HostPairs {
  /** The samples with data, in the order given (time order). */
  readonly data: TimeSeriesSample[];
  /** Each one's index among all the samples (error samples too). */
  readonly ticks: number[];
  /** Devices in first-seen order. */
  readonly diskNames: string[];
  /** The whole disks of `diskNames`: what the headline adds up. */
  readonly disks: string[];
  /** Seconds of each pair (its rates' intervalSeconds; 0 for the first). */
  readonly intervals: Float64Array;
  /** Per HEADLINE_METRICS entry, each pair's figure; NaN where the pair has none. */
  readonly headline: Float64Array[];

  constructor(samples: readonly TimeSeriesSample[], private readonly nominalInterval: number, private readonly scope: PairsScope = 'all') {
    const { data, ticks, diskNames } = dataTicks(samples);
    this.data = data;
    this.ticks = ticks;
    this.diskNames = diskNames;
    this.disks = wholeDisks(diskNames);
    this.intervals = new Float64Array(data.length);
    this.headline = HEADLINE_METRICS.map(() => new Float64Array(data.length));
  }

  /** Computes every pair's rates and headline (once), handing each to `visit`. */
  compute(visit?: PairVisitor): this {
    const { data, ticks, nominalInterval, disks, intervals, headline: heads } = this;
    const only: RatesScope = this.scope === 'all' ? {} : { disks: new Set(disks), interfaces: countedInterface, perCpu: false, vm: false };
    const none = {};
    for (let i = 0; i < data.length; i++) {
      const nominal = i > 0 && nominalInterval > 0 ? { nominalSeconds: (ticks[i] - ticks[i - 1]) * nominalInterval } : none;
      const r = scopedRates(i > 0 ? data[i - 1] : data[i], data[i], nominal, only);
      const h = headline(r, disks);
      intervals[i] = r.intervalSeconds;
      for (let k = 0; k < HEADLINE_METRICS.length; k++) heads[k][i] = h[HEADLINE_METRICS[k].key] ?? NaN;
      visit?.(i, r, h);
    }
    return this;
  }
}
