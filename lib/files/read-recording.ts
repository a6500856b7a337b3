/** Read a recording whatever its form: the JSON file or the JSON Lines stream, gzipped or not. */
import { InvalidDataError } from '../errors.js';
import type { TimeSeriesData } from '../models/data.js';
import { openInput } from './io.js';
import { readTimeSeriesJson } from './json-file.js';
import { readTimeSeriesJsonl } from './jsonl-read.js';

export interface Recording {
  data: TimeSeriesData;
  format: 'json' | 'jsonl';
  /** False for a stream whose writer did not finish (killed or still running). */
  complete: boolean;
  /** Torn lines skipped (a JSON Lines stream cut by a kill). */
  skippedLines: number;
}

/** A JSON Lines stream starts with its header record on one line; the JSON file does not. */
async function looksLikeJsonl(path: string): Promise<boolean> {
  const input = await openInput(path);
  let head = '';
  try {
    for await (const chunk of input) {
      head += (chunk as Buffer).toString('utf8');
      if (head.includes('\n') || head.length >= 65536) break;
    }
  } finally {
    input.destroy();
  }
  const first = head.split('\n', 1)[0].trim();
  return first.startsWith('{"record"');
}

export async function readRecording(path: string): Promise<Recording> {
  if (await looksLikeJsonl(path)) {
    const r = await readTimeSeriesJsonl(path);
    return { data: r.data, format: 'jsonl', complete: r.complete, skippedLines: r.skippedLines };
  }
  try {
    return { data: await readTimeSeriesJson(path), format: 'json', complete: true, skippedLines: 0 };
  } catch (e) {
    if (e instanceof InvalidDataError && e.path === '') throw new InvalidDataError('', `${e.message} — is this a hostseries recording?`, { cause: e });
    throw e;
  }
}
