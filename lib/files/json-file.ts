/**
 * The TimeSeriesData JSON file, byte for byte as mlpstorage writes it (`json.dump(d, f, indent=2)`),
 * optionally gzipped. Written atomically and streamed both ways, so a run of any length fits.
 */
import { InvalidDataError, InvalidOptionError } from '../errors.js';
import { pyFloatRepr } from '../json/float.js';
import { isSafeDict } from '../json/json-safe.js';
import { parseJson } from '../json/parse.js';
import { stringifySample } from '../json/sample.js';
import { pyQuote } from '../json/string.js';
import { newline, stringifyJson } from '../json/stringify.js';
import { TimeSeriesData } from '../models/data.js';
import { TimeSeriesSample } from '../models/sample.js';
import { indexPath, keyPath, record } from '../models/validate.js';
import { writeFileAtomic } from './atomic.js';
import { fileError, notJsonObjectText, openInput } from './io.js';
import { SamplesSplitter } from './json-splitter.js';
import { buildFromText } from './parse-sample.js';
import type { WriteJsonOptions } from '../types/files.js';

/** The document in pieces (one per sample), in the exact layout of Python's `json.dump`. */
export function* timeSeriesJsonChunks(data: TimeSeriesData, indent = 2): Generator<string> {
  const nl = (level: number): string => newline(indent, level);
  let head = '{' + nl(1) +
    '"collection_interval_seconds": ' + pyFloatRepr(data.collectionIntervalSeconds) + ',' + nl(1) +
    '"start_time": ' + pyQuote(data.startTime) + ',' + nl(1) +
    '"end_time": ' + pyQuote(data.endTime) + ',' + nl(1) +
    '"num_samples": ' + stringifyJson(data.numSamples) + ',' + nl(1) +
    '"samples_by_host": ';
  if (data.samplesByHost.size === 0) {
    head += '{}';
  } else {
    let firstHost = true;
    for (const [host, samples] of data.samplesByHost) {
      head += (firstHost ? '{' : ',') + nl(2) + pyQuote(host) + ': ';
      firstHost = false;
      if (samples.length === 0) {
        head += '[]';
        continue;
      }
      for (let i = 0; i < samples.length; i++) {
        yield head + (i === 0 ? '[' : ',') + nl(3) + stringifySample(samples[i].toDict(), indent, 3);
        head = '';
      }
      head = nl(2) + ']';
    }
    head += nl(1) + '}';
  }
  yield head + ',' + nl(1) +
    '"collection_method": ' + pyQuote(data.collectionMethod) + ',' + nl(1) +
    '"hosts_requested": ' + stringifyJson(data.hostsRequested, { indent, level: 1 }) + ',' + nl(1) +
    '"hosts_collected": ' + stringifyJson(data.hostsCollected, { indent, level: 1 }) +
    // Our addition, only when there are markers (docs/FORMAT.md).
    (data.markers.length > 0 ? ',' + nl(1) + '"markers": ' + stringifyJson(data.markers, { indent, level: 1 }) : '') + nl(0) + '}';
}

function describeArg(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const plain = Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null || isSafeDict(v);
    return plain ? 'a plain object (TimeSeriesData.fromDict(dict) builds one from a dict)' : `a ${v.constructor?.name ?? 'object'}`;
  }
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Throws an InvalidOptionError naming `fn`'s argument at fault unless `path` and `data` are what it takes. */
export function checkWriteArgs(fn: string, path: unknown, data: unknown): asserts data is TimeSeriesData {
  if (typeof path !== 'string' || path === '') throw new InvalidOptionError(`${fn}: path must be a non-empty string, got ${describeArg(path)}`);
  if (!(data instanceof TimeSeriesData)) throw new InvalidOptionError(`${fn}: data must be a TimeSeriesData, got ${describeArg(data)}`);
}

/** Throws an InvalidOptionError unless `overwrite` is a boolean or absent (a truthy string must not replace a file). */
export function checkOverwrite(fn: string, overwrite: unknown): boolean {
  if (overwrite === undefined) return false;
  if (typeof overwrite !== 'boolean') throw new InvalidOptionError(`${fn}: overwrite must be true or false, got ${describeArg(overwrite)}`);
  return overwrite;
}

/**
 * Write `data` to `path` atomically (see atomic.ts). An existing path is refused unless
 * `overwrite` (a regular file only). Failures are FileErrors naming `path`.
 */
export async function writeTimeSeriesJson(path: string, data: TimeSeriesData, options: WriteJsonOptions = {}): Promise<void> {
  checkWriteArgs('writeTimeSeriesJson', path, data);
  const overwrite = checkOverwrite('writeTimeSeriesJson', options.overwrite);
  const gzip = options.gzip ?? path.endsWith('.gz');
  await writeFileAtomic(path, timeSeriesJsonChunks(data, options.indent ?? 2), { gzip, gzipLevel: options.gzipLevel, overwrite });
}

/** Re-throw a data error found in `file` with the file named (the field path stays in `.path`). */
export function inFile(e: unknown, file: string, where = ''): unknown {
  if (!(e instanceof InvalidDataError)) return e;
  const detail = e.path && e.message.startsWith(e.path + ': ') ? e.message.slice(e.path.length + 2) : e.message;
  return new InvalidDataError(e.path, `${detail} (in ${file}${where})`, { cause: e });
}

/**
 * Read a TimeSeriesData JSON file (gzipped or not: detected by its magic bytes). Streams the file,
 * so files beyond V8's longest string are fine. Every field is checked: a bad one throws an
 * InvalidDataError naming the field and the file; a truncated file throws one too.
 */
export async function readTimeSeriesJson(path: string): Promise<TimeSeriesData> {
  const input = await openInput(path);
  const byHost = new Map<string, TimeSeriesSample[]>();
  const splitter = new SamplesSplitter(
    (host, index, text) => {
      const at = indexPath(keyPath('samples_by_host', host), index);
      let sample: TimeSeriesSample;
      try {
        sample = buildFromText(text, (v) => v, (v) => TimeSeriesSample.fromDict(v, at));
      } catch (e) {
        // The file is named once, by the catch below (inFile).
        if (e instanceof SyntaxError) throw new InvalidDataError(at, `invalid JSON: ${e.message}`);
        throw e;
      }
      byHost.get(host)!.push(sample);
    },
    (host) => byHost.set(host, []), // a repeated host key replaces the earlier one, as in JSON.parse
  );
  let skeleton: string;
  let first = true;
  try {
    for await (const chunk of input) {
      if (first) {
        first = false;
        const why = notJsonObjectText(chunk as Buffer);
        if (why !== undefined) throw new InvalidDataError('', `${path}: not a recording: ${why}`);
      }
      splitter.push(chunk as Buffer);
    }
    if (first) throw new InvalidDataError('', `${path}: not a recording: the file is empty`);
    skeleton = splitter.end();
  } catch (e) {
    input.destroy();
    if (e instanceof SyntaxError) throw new InvalidDataError('', `${path}: invalid JSON: ${e.message} (truncated file?)`);
    if (e instanceof InvalidDataError) throw e.path === '' ? e : inFile(e, path);
    throw fileError(path, 'read', e);
  }
  let top: unknown;
  try {
    top = parseJson(skeleton);
  } catch (e) {
    throw new InvalidDataError('', `${path}: invalid JSON: ${(e as Error).message}`);
  }
  try {
    const d = record(top, '');
    const data = TimeSeriesData.fromDict(d);
    for (const host of data.samplesByHost.keys()) data.samplesByHost.set(host, byHost.get(host) ?? []);
    return data;
  } catch (e) {
    throw inFile(e, path);
  }
}
