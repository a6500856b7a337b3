/**
 * A whole JSON Lines stream written at once (atomically, see atomic.ts): header, every sample,
 * the markers, footer. For a recording assembled in memory (for instance a stream completed from the samples
 * a failing disk did not take) that must be saved in the streamed form.
 */
import type { TimeSeriesData } from '../models/data.js';
import { writeFileAtomic } from './atomic.js';
import { checkOverwrite, checkWriteArgs } from './json-file.js';
import { footerLine, headerLine, markerLine, sampleLine } from './jsonl-format.js';
import type { WriteJsonlOptions } from '../types/files.js';

/** The stream in pieces: the header, one line per sample (host by host), the footer. */
export function* timeSeriesJsonlChunks(data: TimeSeriesData): Generator<string> {
  yield headerLine({
    collectionIntervalSeconds: data.collectionIntervalSeconds,
    startTime: data.startTime,
    collectionMethod: data.collectionMethod,
    hostsRequested: data.hostsRequested,
  });
  for (const [host, samples] of data.samplesByHost) for (const s of samples) yield sampleLine(host, s);
  for (const m of data.markers) yield markerLine(m);
  yield footerLine(data.endTime, data.numSamples, data.hostsCollected, data.collectionMethod);
}

/**
 * Write `data` to `path` as a complete JSON Lines stream, atomically. An existing path is refused
 * unless `overwrite` (a regular file only). Failures are FileErrors naming `path`.
 */
export async function writeTimeSeriesJsonl(path: string, data: TimeSeriesData, options: WriteJsonlOptions = {}): Promise<void> {
  checkWriteArgs('writeTimeSeriesJsonl', path, data);
  const overwrite = checkOverwrite('writeTimeSeriesJsonl', options.overwrite);
  const gzip = options.gzip ?? path.endsWith('.gz');
  await writeFileAtomic(path, timeSeriesJsonlChunks(data), { gzip, gzipLevel: options.gzipLevel, overwrite });
}
