/**
 * The JSON Lines stream format. One JSON object per line, ASCII only:
 *
 *   {"record":"header","format":"hostseries-jsonl","version":1,"collection_interval_seconds":1.0,
 *    "start_time":"…","collection_method":"local","hosts_requested":["node1"]}
 *   {"record":"sample","host":"node1","sample":{…the mlpstorage sample dict…}}
 *   …
 *   {"record":"footer","end_time":"…","num_samples":N,"hosts_collected":["node1"],"collection_method":"local"}
 *
 * `host` is the host as requested (the key in `samples_by_host`), which may differ from the
 * sample's own `hostname`. The footer is missing when the writer did not finish; its
 * `collection_method` (optional) supersedes the header's. docs/FORMAT.md describes it all.
 */
import { stringifySample } from '../json/sample.js';
import { pyQuote } from '../json/string.js';
import { stringifyJson } from '../json/stringify.js';
import type { TimeSeriesSample } from '../models/sample.js';
import type { CollectionMethod } from '../types/sample.js';
import type { RunMetadata } from '../types/sink.js';
import type { Marker } from '../types/markers.js';

export const JSONL_FORMAT = 'hostseries-jsonl';
export const JSONL_VERSION = 1;

export function headerLine(meta: RunMetadata): string {
  return stringifyJson({
    record: 'header',
    format: JSONL_FORMAT,
    version: JSONL_VERSION,
    collection_interval_seconds: meta.collectionIntervalSeconds,
    start_time: meta.startTime,
    collection_method: meta.collectionMethod,
    hosts_requested: meta.hostsRequested,
  }, { floats: { collection_interval_seconds: true } }) + '\n';
}

export function sampleLine(host: string, sample: TimeSeriesSample): string {
  return '{"record":"sample","host":' + pyQuote(host) + ',"sample":' + stringifySample(sample.toDict()) + '}\n';
}

/** A marker: its own line, `{"marker": {...}}` (the reader collects them into `markers`). */
export function markerLine(marker: Marker): string {
  return stringifyJson({ marker }) + '\n';
}

/** `collectionMethod`, when given, supersedes the header's (mlpstorage's rule needs the hosts collected). */
export function footerLine(endTime: string, numSamples: number, hostsCollected: readonly string[], collectionMethod?: CollectionMethod): string {
  return stringifyJson({
    record: 'footer', end_time: endTime, num_samples: numSamples, hosts_collected: hostsCollected, collection_method: collectionMethod,
  }) + '\n';
}
