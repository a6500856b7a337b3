/** Read a recording whatever its form: the JSON file or the JSON Lines stream, gzipped or not. */
import { InvalidDataError } from '../errors.js';
import type { TimeSeriesData } from '../models/data.js';
import { notJsonObjectText, openInput } from './io.js';
import { readTimeSeriesJson } from './json-file.js';
import { readTimeSeriesJsonl } from './jsonl-read.js';
import type { ReadRecordingOptions, Recording } from '../types/files.js';

/**
 * The first line of the (gunzipped) file, at most 64 KiB of it. Throws an InvalidDataError when
 * the bytes show it is no recording at all (binary, empty, not a JSON object).
 */
async function firstLine(path: string): Promise<string> {
  const input = await openInput(path);
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of input) {
      const b = chunk as Buffer;
      parts.push(b);
      size += b.length;
      if (b.includes(10) || size >= 65536) break;
    }
  } finally {
    input.destroy();
  }
  const head = Buffer.concat(parts);
  if (head.length === 0) throw new InvalidDataError('', `${path}: not a recording: the file is empty`);
  const why = notJsonObjectText(head);
  if (why !== undefined) throw new InvalidDataError('', `${path}: not a recording: ${why}`);
  return head.toString('utf8').split('\n', 1)[0].trim();
}

/**
 * Read `path`, a recording in any of our forms (or mlpstorage's JSON). A directory, FIFO or device
 * is refused at once with a FileError; bytes that are no recording give an InvalidDataError
 * saying so. `strict` refuses a stream's corrupt lines instead of skipping them.
 */
export async function readRecording(path: string, options: ReadRecordingOptions = {}): Promise<Recording> {
  // A JSON Lines stream starts with its header record on one line; the JSON file does not.
  if ((await firstLine(path)).startsWith('{"record"')) {
    const r = await readTimeSeriesJsonl(path, options);
    return { data: r.data, format: 'jsonl', complete: r.complete, skipped: r.skipped, skippedLines: r.skippedLines, warnings: r.warnings };
  }
  let data: TimeSeriesData;
  try {
    data = await readTimeSeriesJson(path);
  } catch (e) {
    if (e instanceof InvalidDataError && e.path === '' && !e.message.includes('not a recording')) {
      throw new InvalidDataError('', `${e.message} — is this a hostseries recording?`, { cause: e });
    }
    throw e;
  }
  const warnings: string[] = [];
  const held = data.countSamples();
  if (data.numSamples !== held) warnings.push(`${path}: num_samples says ${data.numSamples}, the file holds ${held}`);
  return { data, format: 'json', complete: true, skipped: [], skippedLines: 0, warnings };
}
