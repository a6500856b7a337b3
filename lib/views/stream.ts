/**
 * A recording read one sample at a time, in bounded memory, for `export`: a JSON Lines stream
 * line by line; a JSON file through the samples splitter (one sample's text at a time). Markers
 * and the file's interval come with the samples (the JSON file's markers come after them: a
 * caller that needs them first makes a first pass).
 */
import { InvalidDataError } from '../errors.js';
import { fileError, notJsonObjectText, openInput } from '../files/io.js';
import { SamplesSplitter } from '../files/json-splitter.js';
import { buildFromText } from '../files/parse-sample.js';
import { parseJson } from '../json/parse.js';
import { markerFromDict, markerList } from '../models/markers.js';
import { TimeSeriesSample } from '../models/sample.js';
import { isRecord } from '../models/validate.js';
import type { Marker } from '../types/markers.js';

export type StreamItem =
  | { kind: 'interval'; seconds: number }
  | { kind: 'sample'; host: string; sample: TimeSeriesSample }
  | { kind: 'marker'; marker: Marker }
  /** A line of a stream that could not be read (skipped). */
  | { kind: 'skipped'; line: number; message: string };

async function* lines(path: string): AsyncGenerator<string> {
  const input = await openInput(path);
  let rest = '';
  try {
    for await (const c of input) {
      const text = rest + (c as Buffer).toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      yield* parts;
    }
  } catch (e) {
    input.destroy();
    throw fileError(path, 'read', e);
  }
  if (rest !== '') yield rest;
}

/** The first line (a JSON Lines stream starts with its header record). */
async function isJsonl(path: string): Promise<boolean> {
  const input = await openInput(path);
  try {
    for await (const c of input) {
      const b = c as Buffer;
      const why = notJsonObjectText(b);
      if (why !== undefined) throw new InvalidDataError('', `${path}: not a recording: ${why}`);
      return b.toString('utf8', 0, Math.min(b.length, 64)).startsWith('{"record"');
    }
    throw new InvalidDataError('', `${path}: not a recording: the file is empty`);
  } finally {
    input.destroy();
  }
}

const sampleOf = (v: unknown): unknown => (isRecord(v) && v.record === 'sample' ? v.sample : undefined);

async function* jsonlItems(path: string): AsyncGenerator<StreamItem> {
  let n = 0;
  for await (const text of lines(path)) {
    n++;
    if (text.trim() === '') continue;
    try {
      const item = buildFromText(text, sampleOf, (v): StreamItem | undefined => {
        if (!isRecord(v)) throw new InvalidDataError('', 'not a JSON object');
        if (v.record === 'sample') {
          if (typeof v.host !== 'string') throw new InvalidDataError('host', 'expected a string');
          return { kind: 'sample', host: v.host, sample: TimeSeriesSample.fromDict(v.sample, 'sample') };
        }
        if (v.record === 'header' && typeof v.collection_interval_seconds === 'number') return { kind: 'interval', seconds: v.collection_interval_seconds };
        if (v.record === undefined && v.marker !== undefined) return { kind: 'marker', marker: markerFromDict(v.marker, 'marker') };
        return undefined;
      });
      if (item) yield item;
    } catch (e) {
      if (n === 1) throw new InvalidDataError('', `${path} line 1: not a hostseries-jsonl stream (${(e as Error).message})`);
      yield { kind: 'skipped', line: n, message: e instanceof SyntaxError ? `invalid JSON: ${e.message}` : (e as Error).message };
    }
  }
}

async function* jsonItems(path: string): AsyncGenerator<StreamItem> {
  const input = await openInput(path);
  const queue: StreamItem[] = [];
  const splitter = new SamplesSplitter((host, index, text) => {
    const at = `samples_by_host.${host}[${index}]`;
    try {
      queue.push({ kind: 'sample', host, sample: buildFromText(text, (v) => v, (v) => TimeSeriesSample.fromDict(v, at)) });
    } catch (e) {
      if (e instanceof SyntaxError) throw new InvalidDataError(at, `invalid JSON: ${e.message} (in ${path})`);
      throw e;
    }
  });
  let first = true;
  try {
    for await (const c of input) {
      if (first) {
        first = false;
        // mlpstorage's key order puts the interval before the samples: rates need it first.
        const m = /"collection_interval_seconds"\s*:\s*([0-9.eE+-]+)/.exec((c as Buffer).toString('latin1', 0, 4096));
        if (m && Number.isFinite(Number(m[1]))) yield { kind: 'interval', seconds: Number(m[1]) };
      }
      splitter.push(c as Buffer);
      yield* queue;
      queue.length = 0;
    }
  } catch (e) {
    input.destroy();
    if (e instanceof InvalidDataError || e instanceof SyntaxError) throw e;
    throw fileError(path, 'read', e);
  }
  let top: unknown;
  try {
    top = parseJson(splitter.end());
  } catch (e) {
    throw new InvalidDataError('', `${path}: invalid JSON: ${(e as Error).message} (truncated file?)`);
  }
  if (!isRecord(top)) throw new InvalidDataError('', `${path}: not a recording`);
  if (top.markers !== undefined) for (const marker of markerList(top.markers, 'markers')) yield { kind: 'marker', marker };
}

/** The items of the recording at `path` (JSON or JSON Lines, gzipped or not), in file order. */
export async function* streamRecording(path: string): AsyncGenerator<StreamItem> {
  yield* (await isJsonl(path)) ? jsonlItems(path) : jsonItems(path);
}
