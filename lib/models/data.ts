/** A whole recording: the samples of every host plus the run metadata, as mlpstorage writes it. */
import type { CollectionMethod, TimeSeriesDataDict } from '../types.js';
import { TimeSeriesSample } from './sample.js';
import {
  array, collectionMethod, count, field, keyPath, nonNegativeFloat, record, setOwn, stringList, timestampOrEmpty,
} from './validate.js';

export interface TimeSeriesDataInit {
  collectionIntervalSeconds: number;
  /** `YYYY-MM-DDTHH:MM:SSZ` (UTC), or `''` when unknown (as the reference writes it). */
  startTime: string;
  endTime: string;
  /** Defaults to the number of samples in `samplesByHost`. */
  numSamples?: number;
  samplesByHost?: Map<string, TimeSeriesSample[]> | Record<string, TimeSeriesSample[]>;
  collectionMethod: CollectionMethod;
  hostsRequested?: string[];
  /** Defaults to the hosts that have at least one sample. */
  hostsCollected?: string[];
}

export class TimeSeriesData {
  collectionIntervalSeconds: number;
  startTime: string;
  endTime: string;
  numSamples: number;
  /** Host (as requested) → its samples in time order. A Map: host names are data, not keys of an object. */
  samplesByHost: Map<string, TimeSeriesSample[]>;
  collectionMethod: CollectionMethod;
  hostsRequested: string[];
  hostsCollected: string[];

  constructor(init: TimeSeriesDataInit) {
    const byHost = init.samplesByHost ?? new Map<string, TimeSeriesSample[]>();
    this.samplesByHost = byHost instanceof Map ? byHost : new Map(Object.entries(byHost));
    this.collectionIntervalSeconds = init.collectionIntervalSeconds;
    this.startTime = init.startTime;
    this.endTime = init.endTime;
    this.numSamples = init.numSamples ?? this.countSamples();
    this.collectionMethod = init.collectionMethod;
    this.hostsRequested = init.hostsRequested ?? [];
    this.hostsCollected = init.hostsCollected ?? [...this.samplesByHost].filter(([, s]) => s.length > 0).map(([h]) => h);
  }

  /** The number of samples actually held (which `numSamples` normally equals). */
  countSamples(): number {
    let n = 0;
    for (const s of this.samplesByHost.values()) n += s.length;
    return n;
  }

  /** The mlpstorage dict, keys in file order. Samples become dicts; nested objects are shared. */
  toDict(): TimeSeriesDataDict {
    const byHost: Record<string, ReturnType<TimeSeriesSample['toDict']>[]> = {};
    for (const [host, samples] of this.samplesByHost) setOwn(byHost, host, samples.map((s) => s.toDict()));
    return {
      collection_interval_seconds: this.collectionIntervalSeconds,
      start_time: this.startTime,
      end_time: this.endTime,
      num_samples: this.numSamples,
      samples_by_host: byHost,
      collection_method: this.collectionMethod,
      hosts_requested: this.hostsRequested,
      hosts_collected: this.hostsCollected,
    };
  }

  /** Same as `toDict()`; see `TimeSeriesSample.toJSON` about bigints and `JSON.stringify`. */
  toJSON(): TimeSeriesDataDict {
    return this.toDict();
  }

  /**
   * Build from a dict, checking every field (errors name the field, e.g.
   * `samples_by_host.node1[3].diskstats[0].reads_completed: expected a non-negative integer`).
   * Every key the reference always writes is required; unknown keys are ignored.
   */
  static fromDict(v: unknown, path = ''): TimeSeriesData {
    const d = record(v, path);
    const byHostIn = field(d, 'samples_by_host', path, record);
    const byHostPath = keyPath(path, 'samples_by_host');
    const samplesByHost = new Map<string, TimeSeriesSample[]>();
    for (const host in byHostIn) {
      const hostPath = keyPath(byHostPath, host);
      samplesByHost.set(host, array(byHostIn[host], hostPath).map((s, i) => TimeSeriesSample.fromDict(s, `${hostPath}[${i}]`)));
    }
    return new TimeSeriesData({ ...TimeSeriesData.metadataFromDict(d, path), samplesByHost });
  }

  /** The run metadata of a dict (everything but the samples), checked. */
  static metadataFromDict(d: Record<string, unknown>, path = ''): Required<Omit<TimeSeriesDataInit, 'samplesByHost'>> {
    return {
      collectionIntervalSeconds: field(d, 'collection_interval_seconds', path, nonNegativeFloat),
      startTime: field(d, 'start_time', path, timestampOrEmpty),
      endTime: field(d, 'end_time', path, timestampOrEmpty),
      numSamples: field(d, 'num_samples', path, count),
      collectionMethod: field(d, 'collection_method', path, collectionMethod),
      hostsRequested: field(d, 'hosts_requested', path, stringList),
      hostsCollected: field(d, 'hosts_collected', path, stringList),
    };
  }
}
