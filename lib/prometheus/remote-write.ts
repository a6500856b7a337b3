/**
 * Prometheus remote-write 1.0: samples as a `prometheus.WriteRequest` (protobuf, through
 * protobufjs) compressed with snappy's block format (snappyjs), the body every receiver takes
 * (Prometheus' --web.enable-remote-write-receiver, VictoriaMetrics, Mimir, Thanos receive).
 * The schema is remote-write 1.0's (prometheus/prompb types.proto and remote.proto, the fields
 * 1.0 uses), built by reflection so no generated code is kept.
 */
import protobuf from 'protobufjs';
import { compress, uncompress } from 'snappyjs';

import type { SampleDict } from '../types/sample.js';
import { sampleFamilies, type FamilyOptions, type MetricFamily } from './families.js';

const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 },
            metadata: { rule: 'repeated', type: 'MetricMetadata', id: 3 },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
        MetricMetadata: {
          fields: {
            type: { type: 'MetricType', id: 1 },
            metric_family_name: { type: 'string', id: 2 },
            help: { type: 'string', id: 4 },
            unit: { type: 'string', id: 5 },
          },
        },
        MetricType: { values: { UNKNOWN: 0, COUNTER: 1, GAUGE: 2, HISTOGRAM: 3, GAUGEHISTOGRAM: 4, SUMMARY: 5, INFO: 6, STATESET: 7 } },
      },
    },
  },
});
const WriteRequest = root.lookupType('prometheus.WriteRequest');

export interface Label {
  name: string;
  value: string;
}

export interface RemoteSample {
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export interface TimeSeries {
  /** Sorted by name, `__name__` among them (receivers require the order). */
  labels: Label[];
  /** In time order. */
  samples: RemoteSample[];
}

export interface MetricMetadata {
  type: number;
  metric_family_name: string;
  help: string;
  unit: string;
}

export interface WriteRequestBody {
  timeseries: TimeSeries[];
  metadata?: MetricMetadata[];
}

const METRIC_TYPE = { counter: 1, gauge: 2, untyped: 0 } as const;

export interface SeriesOptions extends FamilyOptions {
  /** Labels on every series, e.g. `{ job: 'node', instance: 'host1' }` (the defaults' names). */
  labels?: Record<string, string>;
  /** Labels of each sample's own host beside `labels` (serve forwarding many hosts: each one's tags). */
  hostLabels?: (hostname: string) => Readonly<Record<string, string>> | undefined;
}

/**
 * Samples (of one host) as remote-write series: one series per metric and label set, its samples
 * in the dicts' order; every series carries `instance` (the sample's hostname unless
 * `labels.instance` is given), `job` (`node` unless given: node_exporter's usual job, so rules
 * that select it keep working) and the other `labels`.
 */
export function toTimeSeries(dicts: readonly SampleDict[], o: SeriesOptions = {}): { timeseries: TimeSeries[]; metadata: MetricMetadata[] } {
  const series = new Map<string, TimeSeries>();
  const metadata = new Map<string, MetricMetadata>();
  for (const d of dicts) {
    const ms = sampleMs(d);
    const common = commonLabels(d, o);
    for (const f of sampleFamilies(d, o)) {
      if (!metadata.has(f.name)) metadata.set(f.name, familyMetadata(f));
      for (const s of f.series) {
        const labels = [['__name__', f.name] as const, ...common, ...s.labels]
          .map(([name, value]) => ({ name, value }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const key = labels.map((l) => `${l.name}\u0000${l.value}`).join('\u0001');
        let t = series.get(key);
        if (!t) series.set(key, (t = { labels, samples: [] }));
        t.samples.push({ value: s.value, timestamp: ms });
      }
    }
  }
  return { timeseries: [...series.values()], metadata: [...metadata.values()] };
}

const sampleMs = (d: SampleDict): number => (d.timestamp_ns !== undefined ? Math.floor(d.timestamp_ns / 1e6) : Date.parse(d.timestamp));

const commonLabels = (d: SampleDict, o: SeriesOptions): [string, string][] => Object.entries({ job: 'node', instance: d.hostname, ...o.labels, ...o.hostLabels?.(d.hostname) });

function familyMetadata(f: MetricFamily): MetricMetadata {
  return { type: METRIC_TYPE[f.type], metric_family_name: f.name, help: f.help, unit: '' };
}

/** Series whose encoded labels are kept; past it the cache starts over (processes come and go). */
const LABEL_CACHE_MAX = 50_000;

/**
 * The write request of samples, encoded straight from their families with each series' labels
 * encoded once and kept (they repeat every sample): what a RemoteWriter sends. Equal, decoded,
 * to `encodeWriteRequest(toTimeSeries(dicts, o))` (__test__/prometheus.spec.ts), which builds a
 * message object per series and sample first. Measured on this machine, one host sample: 0.9 ms
 * against 1.4 ms warm; once a second (cold, as an agent runs it) 1.5–6 ms against 2.3–8.5 ms.
 * The families themselves are most of what is left.
 */
export class WriteRequestEncoder {
  private readonly labels = new Map<string, Uint8Array>();

  constructor(private readonly o: SeriesOptions = {}) {}

  /** `extra`: families of a sample beside its own (what `serve --prometheus` says of the push). */
  encode(dicts: readonly SampleDict[], extra?: (d: SampleDict) => readonly MetricFamily[]): Buffer {
    const groups = new Map<string, { labels: Uint8Array; values: number[]; ms: number[] }>();
    const families = new Map<string, MetricFamily>();
    if (this.labels.size > LABEL_CACHE_MAX) this.labels.clear();
    for (const d of dicts) {
      const ms = sampleMs(d);
      const common = commonLabels(d, this.o);
      let commonKey = '';
      for (const [k, v] of common) commonKey += `\u0001${k}\u0000${v}`;
      const own = sampleFamilies(d, this.o);
      for (const f of extra ? [...own, ...extra(d)] : own) {
        if (!families.has(f.name)) families.set(f.name, f);
        for (const s of f.series) {
          let key = f.name + commonKey;
          for (const [k, v] of s.labels) key += `\u0002${k}\u0000${v}`;
          let g = groups.get(key);
          if (!g) {
            let labels = this.labels.get(key);
            if (!labels) this.labels.set(key, (labels = encodeLabels(f.name, common, s.labels)));
            groups.set(key, (g = { labels, values: [], ms: [] }));
          }
          g.values.push(s.value);
          g.ms.push(ms);
        }
      }
    }
    // WriteRequest: timeseries = 1, metadata = 3; TimeSeries: labels = 1, samples = 2;
    // Sample: value = 1 (double), timestamp = 2 (int64); MetricMetadata: type = 1,
    // metric_family_name = 2, help = 4, unit = 5 (empty: left out, as proto3 does).
    const w = protobuf.Writer.create();
    for (const g of groups.values()) {
      w.uint32(0x0a).fork().raw(g.labels);
      for (let i = 0; i < g.values.length; i++) w.uint32(0x12).fork().uint32(0x09).double(g.values[i]).uint32(0x10).int64(g.ms[i]).ldelim();
      w.ldelim();
    }
    for (const f of families.values()) {
      w.uint32(0x1a).fork().uint32(0x08).uint32(METRIC_TYPE[f.type]).uint32(0x12).string(f.name).uint32(0x22).string(f.help).ldelim();
    }
    return compress(Buffer.from(w.finish()));
  }
}

/** A series' Label messages (each `labels = 1` of TimeSeries), sorted by name as receivers require. */
function encodeLabels(name: string, common: readonly (readonly [string, string])[], own: readonly (readonly [string, string])[]): Uint8Array {
  const all = [['__name__', name] as const, ...common, ...own].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const w = protobuf.Writer.create();
  for (const [k, v] of all) w.uint32(0x0a).fork().uint32(0x0a).string(k).uint32(0x12).string(v).ldelim();
  return w.finish();
}

/** The HTTP body of a write request: protobuf, snappy-compressed. */
export function encodeWriteRequest(body: WriteRequestBody): Buffer {
  const message = WriteRequest.fromObject(body);
  return compress(Buffer.from(WriteRequest.encode(message).finish()));
}

/** The inverse (for tests and for a receiver): a snappy-compressed protobuf WriteRequest. */
export function decodeWriteRequest(data: Uint8Array): WriteRequestBody {
  const message = WriteRequest.decode(uncompress(data));
  return WriteRequest.toObject(message, { longs: Number, defaults: true, arrays: true }) as WriteRequestBody;
}

/** The headers remote-write 1.0 requires. */
export const REMOTE_WRITE_HEADERS = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
} as const;
