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
    const ms = d.timestamp_ns !== undefined ? Math.floor(d.timestamp_ns / 1e6) : Date.parse(d.timestamp);
    const common: [string, string][] = Object.entries({ job: 'node', instance: d.hostname, ...o.labels });
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

function familyMetadata(f: MetricFamily): MetricMetadata {
  return { type: METRIC_TYPE[f.type], metric_family_name: f.name, help: f.help, unit: '' };
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
