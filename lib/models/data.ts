/** A whole recording: the samples of every host plus the run metadata, as mlpstorage writes it. */
import type { CollectionMethod, RunInit, TimeSeriesDataDict, TimeSeriesDataInit } from '../types/sample.js';
import { bigintFree, safeDict } from '../json/json-safe.js';
import { TimeSeriesSample } from './sample.js';
import {
  array, collectionMethod, count, field, keyPath, nonNegativeFloat, record, stringList, timestampOrEmpty,
} from './validate.js';
import { setOwn } from '../json/own.js';
import { markerList } from './markers.js';
import type { Marker } from '../types/markers.js';

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
  /** Labelled instants of the run, in time order (our addition; see docs/FORMAT.md). */
  markers: Marker[];

  constructor(init: TimeSeriesDataInit) {
    const byHost = init.samplesByHost ?? new Map<string, TimeSeriesSample[]>();
    this.samplesByHost = byHost instanceof Map ? byHost : new Map(Object.entries(byHost));
    this.collectionIntervalSeconds = init.collectionIntervalSeconds;
    this.startTime = init.startTime;
    this.endTime = init.endTime;
    this.numSamples = init.numSamples ?? this.countSamples();
    this.hostsRequested = init.hostsRequested ?? [];
    this.hostsCollected = init.hostsCollected ?? TimeSeriesData.hostsWithSamples(this.samplesByHost);
    this.collectionMethod = init.collectionMethod ?? TimeSeriesData.collectionMethodFor(this.hostsCollected);
    this.markers = init.markers ?? [];
  }

  // mlpstorage's rules for the run metadata, in one place (its mlpstorage_py/benchmarks/base.py,
  // Benchmark._stop_timeseries_collection, and MultiHostTimeSeriesCollector.get_hosts_with_data).

  /** `hosts_collected`: the hosts with at least one sample, error samples included, in key order. */
  static hostsWithSamples(samplesByHost: ReadonlyMap<string, readonly unknown[]>): string[] {
    return [...samplesByHost].filter(([, s]) => s.length > 0).map(([h]) => h);
  }

  /**
   * `collection_method`: `ssh` when more than one host was collected, else `local`. This is
   * mlpstorage's rule: it says how many hosts there were, not how each was sampled (one remote
   * host alone is `local`; `hostStatus()` of the collector tells the method per host).
   */
  static collectionMethodFor(hostsCollected: readonly string[]): CollectionMethod {
    return hostsCollected.length > 1 ? 'ssh' : 'local';
  }

  /**
   * A single-host run (mlpstorage without `--hosts`): `samples_by_host` is `{hostname: samples}`
   * even with no sample, `hosts_requested` is `[hostname]`, `hosts_collected` is `[hostname]` once
   * there is a sample, and the method is `local`. `hostname` is the samples' own (the local host's
   * name, `os.hostname()`, as mlpstorage's `socket.gethostname()`).
   */
  static forLocalHost(init: RunInit & { hostname: string; samples: TimeSeriesSample[] }): TimeSeriesData {
    return new TimeSeriesData({
      collectionIntervalSeconds: init.collectionIntervalSeconds,
      startTime: init.startTime,
      endTime: init.endTime,
      samplesByHost: new Map([[init.hostname, init.samples]]),
      collectionMethod: 'local',
      hostsRequested: [init.hostname],
      hostsCollected: init.samples.length > 0 ? [init.hostname] : [],
    });
  }

  /**
   * A multi-host run (mlpstorage `--hosts`): every requested host has an entry in
   * `samples_by_host` (`[]` without a sample), in the requested order, and `hosts_collected` and
   * `collection_method` follow the rules above. Hosts with samples that were not requested are
   * kept after them.
   */
  static forHosts(init: RunInit & { hostsRequested: readonly string[]; samplesByHost: ReadonlyMap<string, TimeSeriesSample[]> }): TimeSeriesData {
    const byHost = new Map<string, TimeSeriesSample[]>();
    for (const h of init.hostsRequested) byHost.set(h, init.samplesByHost.get(h) ?? []);
    for (const [h, s] of init.samplesByHost) if (!byHost.has(h)) byHost.set(h, s);
    return new TimeSeriesData({
      collectionIntervalSeconds: init.collectionIntervalSeconds,
      startTime: init.startTime,
      endTime: init.endTime,
      samplesByHost: byHost,
      hostsRequested: [...init.hostsRequested],
    });
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
    // Inherits a toJSON that JSON.stringify can use with big counters (see TimeSeriesSample.toJSON).
    return Object.assign(safeDict<TimeSeriesDataDict>(), {
      collection_interval_seconds: this.collectionIntervalSeconds,
      start_time: this.startTime,
      end_time: this.endTime,
      num_samples: this.numSamples,
      samples_by_host: byHost,
      collection_method: this.collectionMethod,
      hosts_requested: this.hostsRequested,
      hosts_collected: this.hostsCollected,
      ...(this.markers.length > 0 ? { markers: this.markers } : {}),
    });
  }

  /** `toDict()` for `JSON.stringify`; see `TimeSeriesSample.toJSON` about big counters. */
  toJSON(): TimeSeriesDataDict {
    return bigintFree(this.toDict()) as TimeSeriesDataDict;
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
    const markers = d.markers === undefined ? [] : markerList(d.markers, keyPath(path, 'markers'));
    return new TimeSeriesData({ ...TimeSeriesData.metadataFromDict(d, path), samplesByHost, markers });
  }

  /** The run metadata of a dict (everything but the samples), checked. */
  static metadataFromDict(d: Record<string, unknown>, path = ''): Required<Omit<TimeSeriesDataInit, 'samplesByHost' | 'markers'>> {
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
