/** Reading a JSON Lines stream (see jsonl-format.ts) back into a TimeSeriesData. */
import { InvalidDataError } from '../errors.js';
import { TimeSeriesData } from '../models/data.js';
import { TimeSeriesSample } from '../models/sample.js';
import {
  collectionMethod, count, field, isRecord, nonNegativeFloat, optional, record, string, stringList, timestampOrEmpty,
} from '../models/validate.js';
import type { CollectionMethod } from '../types/sample.js';
import { markerFromDict } from '../models/markers.js';
import type { Marker } from '../types/markers.js';
import { fileError, openInput } from './io.js';
import { checkTarget } from './atomic.js';
import { checkOverwrite, inFile, writeTimeSeriesJson } from './json-file.js';
import { JSONL_FORMAT } from './jsonl-format.js';
import { buildFromText } from './parse-sample.js';
import type { JsonlReadResult, ReadJsonlOptions, SkippedLine, WriteJsonOptions } from '../types/files.js';

interface Header {
  collectionIntervalSeconds: number;
  startTime: string;
  collectionMethod: CollectionMethod;
  hostsRequested: string[];
}

interface Footer {
  endTime: string;
  numSamples: number;
  hostsCollected: string[];
  collectionMethod: CollectionMethod | undefined;
}

function header(d: Record<string, unknown>): Header {
  if (d.format !== JSONL_FORMAT) throw new InvalidDataError('format', `expected "${JSONL_FORMAT}", got ${JSON.stringify(d.format)}`);
  return {
    collectionIntervalSeconds: field(d, 'collection_interval_seconds', '', nonNegativeFloat),
    startTime: field(d, 'start_time', '', timestampOrEmpty),
    collectionMethod: field(d, 'collection_method', '', collectionMethod),
    hostsRequested: field(d, 'hosts_requested', '', stringList),
  };
}

function footer(d: Record<string, unknown>): Footer {
  return {
    endTime: field(d, 'end_time', '', timestampOrEmpty),
    numSamples: field(d, 'num_samples', '', count),
    hostsCollected: field(d, 'hosts_collected', '', stringList),
    collectionMethod: optional(d, 'collection_method', '', collectionMethod),
  };
}

type Line =
  | { kind: 'header'; head: Header }
  | { kind: 'sample'; host: string; sample: TimeSeriesSample }
  | { kind: 'footer'; foot: Footer }
  | { kind: 'marker'; marker: Marker }
  | { kind: 'other' };

/** One parsed line, checked; no side effects (the caller may parse a line twice). */
function parseRecord(v: unknown): Line {
  const d = record(v, '');
  // A marker is its own line, `{"marker": {...}}` (docs/FORMAT.md, "Markers").
  if (d.record === undefined && d.marker !== undefined) return { kind: 'marker', marker: markerFromDict(d.marker, 'marker') };
  switch (d.record) {
    case 'header':
      return { kind: 'header', head: header(d) };
    case 'sample':
      return { kind: 'sample', host: field(d, 'host', '', string), sample: TimeSeriesSample.fromDict(field(d, 'sample', '', (x) => x), 'sample') };
    case 'footer':
      return { kind: 'footer', foot: footer(d) };
    default:
      return { kind: 'other' };
  }
}

const sampleOf = (v: unknown): unknown => (isRecord(v) && v.record === 'sample' ? v.sample : undefined);

class JsonlBuilder {
  head: Header | undefined;
  foot: Footer | undefined;
  readonly byHost = new Map<string, TimeSeriesSample[]>();
  samples = 0;
  lastTime = '';
  readonly skipped: SkippedLine[] = [];
  readonly markers: Marker[] = [];
  /** An invalid line not yet known to be the last (a torn last line is no corruption). */
  private torn: SkippedLine | undefined;

  constructor(private readonly file: string, private readonly strict: boolean) {}

  /** A corrupt line: skipped and listed, or (strict) refused. */
  private corrupt(line: number, message: string, cause?: unknown): void {
    if (this.strict) throw new InvalidDataError('', `${this.file} line ${line}: ${message} (a corrupt line; without strict it would be skipped)`, { cause });
    this.skipped.push({ line, message });
  }

  line(text: string, n: number): void {
    if (text.trim() === '') return;
    if (this.torn) {
      // Only the last line can be torn by a kill; an invalid line followed by more is corruption.
      const t = this.torn;
      this.torn = undefined;
      if (!this.head) throw new InvalidDataError('', `${this.file} line ${t.line}: ${t.message} (not a ${JSONL_FORMAT} stream?)`);
      this.corrupt(t.line, t.message);
    }
    let r: Line;
    try {
      r = buildFromText(text, sampleOf, parseRecord);
    } catch (e) {
      if (e instanceof SyntaxError) {
        this.torn = { line: n, message: `invalid JSON: ${e.message}` };
        return;
      }
      if (!(e instanceof InvalidDataError) || !this.head) throw inFile(e, this.file, ` line ${n}`);
      this.corrupt(n, e.message, e);
      return;
    }
    if (r.kind === 'header') {
      if (this.head) {
        this.corrupt(n, 'a second header');
        return;
      }
      this.head = r.head;
      // As mlpstorage: every requested host has an entry, in the requested order.
      for (const h of r.head.hostsRequested) if (!this.byHost.has(h)) this.byHost.set(h, []);
      return;
    }
    if (!this.head) throw new InvalidDataError('', `${this.file} line ${n}: not a ${JSONL_FORMAT} stream (the first line is not its header)`);
    if (r.kind === 'sample') {
      let list = this.byHost.get(r.host);
      if (!list) this.byHost.set(r.host, (list = []));
      list.push(r.sample);
      this.samples++;
      if (r.sample.timestamp > this.lastTime) this.lastTime = r.sample.timestamp;
    } else if (r.kind === 'footer') {
      this.foot = r.foot;
    } else if (r.kind === 'marker') {
      this.markers.push(r.marker);
    }
    // Record types from a newer writer are ignored.
  }

  finish(): JsonlReadResult {
    if (this.torn) {
      if (!this.head) throw new InvalidDataError('', `${this.file} line ${this.torn.line}: ${this.torn.message} (not a ${JSONL_FORMAT} stream?)`);
      this.skipped.push(this.torn);
    }
    if (!this.head) throw new InvalidDataError('', `${this.file}: no header line (empty or torn file)`);
    const warnings: string[] = [];
    if (this.foot && this.foot.numSamples !== this.samples) {
      const corrupt = this.skipped.length > 0 ? ` (${this.skipped.length} line${this.skipped.length === 1 ? '' : 's'} skipped)` : '';
      warnings.push(`${this.file}: num_samples says ${this.foot.numSamples}, the file holds ${this.samples}${corrupt}`);
    }
    const data = new TimeSeriesData({
      ...this.head,
      collectionMethod: this.foot?.collectionMethod ?? this.head.collectionMethod,
      endTime: this.foot?.endTime ?? this.lastTime,
      numSamples: this.samples,
      samplesByHost: this.byHost,
      hostsCollected: this.foot?.hostsCollected ?? [...this.byHost].filter(([, s]) => s.length > 0).map(([h]) => h),
      markers: [...this.markers].sort((a, b) => a.timestamp_ns - b.timestamp_ns),
    });
    return { data, skipped: this.skipped, skippedLines: this.skipped.length, complete: this.foot !== undefined, warnings };
  }
}

/**
 * Rebuild a TimeSeriesData from a JSON Lines stream (gzipped or not). Tolerates what a kill
 * leaves: a torn last line (skipped and listed) and no footer (end time and hosts are then taken
 * from the samples). A corrupt line further up (invalid JSON, a sample with invalid data) is
 * skipped and listed with its line number, or with `strict` refused; a file that is not a stream
 * at all (no header first) throws an InvalidDataError naming file and line.
 */
export async function readTimeSeriesJsonl(path: string, options: ReadJsonlOptions = {}): Promise<JsonlReadResult> {
  const input = await openInput(path);
  const b = new JsonlBuilder(path, options.strict ?? false);
  let n = 1;
  let rest: Buffer | undefined;
  try {
    for await (const c of input) {
      const chunk = c as Buffer;
      let start = 0;
      let nl = chunk.indexOf(10);
      if (rest && nl !== -1) {
        b.line(Buffer.concat([rest, chunk.subarray(0, nl)]).toString('utf8'), n++);
        rest = undefined;
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      while (nl !== -1) {
        b.line(chunk.toString('utf8', start, nl), n++);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (start < chunk.length) rest = rest ? Buffer.concat([rest, chunk.subarray(start)]) : Buffer.from(chunk.subarray(start));
    }
  } catch (e) {
    input.destroy();
    if (e instanceof InvalidDataError) throw e;
    throw fileError(path, 'read', e);
  }
  if (rest) b.line(rest.toString('utf8'), n);
  return b.finish();
}

/**
 * Convert a finished (or killed) JSON Lines stream into the mlpstorage JSON file. An existing
 * `jsonPath` is refused unless `overwrite` (a regular file only): checked before the stream is
 * read, so a long stream is not read only to be refused, and again when the file is written.
 */
export async function convertJsonlToJson(jsonlPath: string, jsonPath: string, options: ReadJsonlOptions & WriteJsonOptions = {}): Promise<JsonlReadResult> {
  if (typeof jsonPath === 'string' && jsonPath !== '') await checkTarget(jsonPath, checkOverwrite('convertJsonlToJson', options.overwrite));
  const result = await readTimeSeriesJsonl(jsonlPath, options);
  await writeTimeSeriesJson(jsonPath, result.data, options);
  return result;
}
