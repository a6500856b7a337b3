/**
 * The end of a recording: the final file from the stream on disk plus every sample the stream
 * could not take (a full or failing disk: the JsonlSink keeps them in `unwritten`). Written
 * where asked; when that fails, to a new temporary directory, so that no sample is lost.
 */
import { mkdtemp, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TimeSeriesData } from '../../models/data.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import { timeSeriesJsonChunks, writeTimeSeriesJson } from '../../files/json-file.js';
import { readTimeSeriesJsonl } from '../../files/jsonl-read.js';
import type { JsonlSink } from '../../files/jsonl-sink.js';
import type { Marker } from '../../types/markers.js';
import { timeSeriesJsonlChunks, writeTimeSeriesJsonl } from '../../files/jsonl-write.js';
import { errorMessage } from '../exit.js';
import { checkNewFile } from '../output-file.js';
import { writeStdout, type Reporter } from '../output.js';
import type { OutputPlan } from './paths.js';
import { plural } from '../view/format.js';

export interface Saved {
  /** Every sample is in the file the user asked for. */
  ok: boolean;
  /** Where the recording is (undefined when it could not be written anywhere). */
  path: string | undefined;
  data: TimeSeriesData | undefined;
  /** Samples that came from memory, not from the stream. */
  fromMemory: number;
}

/** A sample's identity within a host, to drop one that is both in the stream and in memory. */
const keyOf = (host: string, s: TimeSeriesSample): string => `${host}\0${String(s.timestampNs ?? '')}\0${s.timestamp}`;

interface Assembled {
  data: TimeSeriesData;
  fromMemory: number;
  /** The stream could be read back whole. */
  streamRead: boolean;
}

/** The stream as far as it got, then the samples held in memory, under every requested host. */
async function assemble(plan: OutputPlan, sink: JsonlSink, reporter: Reporter): Promise<Assembled> {
  const meta = sink.meta!;
  const byHost = new Map<string, TimeSeriesSample[]>(meta.hostsRequested.map((h) => [h, []]));
  const add = (host: string, s: TimeSeriesSample): void => {
    const list = byHost.get(host);
    if (list) list.push(s);
    else byHost.set(host, [s]);
  };
  let endTime = sink.summary?.endTime ?? '';
  let streamRead = true;
  let seen: Set<string> | undefined;
  let markers: Marker[] = [];
  try {
    const r = await readTimeSeriesJsonl(plan.stream);
    markers = r.data.markers;
    for (const [host, samples] of r.data.samplesByHost) for (const s of samples) add(host, s);
    if (!endTime) endTime = r.data.endTime;
    // The sink cuts a failed batch off the file; if it could not, the lines it left are also in memory.
    if (r.data.countSamples() > sink.samplesWritten) {
      seen = new Set();
      for (const [host, samples] of r.data.samplesByHost) for (const s of samples) seen.add(keyOf(host, s));
    }
  } catch (e) {
    streamRead = false;
    reporter.error(`${errorMessage(e)}; the final file lacks the ${plural(sink.samplesWritten, 'sample')} streamed to it`);
  }
  let fromMemory = 0;
  for (const { host, sample } of sink.unwritten) {
    if (seen?.has(keyOf(host, sample))) continue;
    add(host, sample);
    fromMemory++;
  }
  const data = new TimeSeriesData({
    collectionIntervalSeconds: meta.collectionIntervalSeconds,
    startTime: meta.startTime,
    endTime,
    samplesByHost: byHost,
    collectionMethod: meta.collectionMethod,
    hostsRequested: [...meta.hostsRequested],
    hostsCollected: sink.summary?.hostsCollected ? [...sink.summary.hostsCollected] : undefined,
    markers,
  });
  return { data, fromMemory, streamRead };
}

function writer(plan: OutputPlan, data: TimeSeriesData): (path: string, gzip?: boolean, overwrite?: boolean) => Promise<void> {
  return plan.format === 'jsonl'
    ? (path, gzip, overwrite) => writeTimeSeriesJsonl(path, data, { gzip, overwrite })
    : (path, gzip, overwrite) => writeTimeSeriesJson(path, data, { gzip, overwrite });
}

/** The file checked again just before it is written: what appeared there mid-run is not replaced either. */
async function writeOutput(plan: OutputPlan, data: TimeSeriesData): Promise<void> {
  if (plan.tempDir) {
    await writeStdout(plan.format === 'jsonl' ? timeSeriesJsonlChunks(data) : timeSeriesJsonChunks(data), true);
    return;
  }
  // The stream itself (--format jsonl) is this run's own file: it may be replaced by the whole.
  const force = plan.force || plan.output === plan.stream;
  await checkNewFile(plan.output, { force, what: 'the recording' });
  await writer(plan, data)(plan.output, undefined, force);
}

/** A .jsonl recording whose stream was written beside its final name (--force, or -o -). */
async function moveStream(plan: OutputPlan, reporter: Reporter): Promise<Saved> {
  try {
    if (plan.tempDir) {
      const r = await readTimeSeriesJsonl(plan.stream);
      await writeStdout(timeSeriesJsonlChunks(r.data), true);
    } else {
      await checkNewFile(plan.output, { force: plan.force, what: 'the recording' });
      await rename(plan.stream, plan.output);
    }
    return { ok: true, path: plan.output, data: undefined, fromMemory: 0 };
  } catch (e) {
    reporter.error(`${errorMessage(e)}; the recording is in ${plan.stream}`);
    return { ok: false, path: plan.stream, data: undefined, fromMemory: 0 };
  }
}

/**
 * Complete the recording once the collector has stopped (the sink is closed). Reports each
 * failure once, on one line.
 */
export async function saveRecording(plan: OutputPlan, sink: JsonlSink, reporter: Reporter): Promise<Saved> {
  // The normal end of a .jsonl recording: the stream is the file, footer and all.
  if (plan.format === 'jsonl' && !sink.error) {
    return plan.stream === plan.output ? { ok: true, path: plan.output, data: undefined, fromMemory: 0 } : await moveStream(plan, reporter);
  }

  const { data, fromMemory, streamRead } = await assemble(plan, sink, reporter);
  const write = writer(plan, data);
  // A .jsonl stream that cannot be read back is not replaced by what memory holds.
  if (streamRead || plan.output !== plan.stream) {
    try {
      await writeOutput(plan, data);
      if (plan.stream !== plan.output && streamRead) await unlink(plan.stream).catch(() => undefined);
      return { ok: streamRead, path: plan.output, data, fromMemory };
    } catch (e) {
      reporter.error(errorMessage(e));
    }
  }

  // Somewhere else rather than nowhere: a new temporary directory, then the same compressed.
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), 'hostseries-'));
  } catch (e) {
    reporter.error(`cannot create a temporary directory for the recording: ${errorMessage(e)}`);
    return lost(plan, sink, reporter, data);
  }
  const name = plan.tempDir ? `recording.${plan.format}` : basename(plan.output);
  const tries: [string, boolean | undefined][] = [[join(dir, name), undefined]];
  if (!name.endsWith('.gz')) tries.push([join(dir, `${name}.gz`), true]);
  for (const [path, gzip] of tries) {
    try {
      await write(path, gzip);
    } catch (e) {
      reporter.error(errorMessage(e));
      continue;
    }
    const kept = sink.samplesWritten > 0 ? `; ${plan.stream} holds the first ${plural(sink.samplesWritten, 'sample')}` : '';
    reporter.error(`${plan.output} could not be written: the recording (${plural(data.countSamples(), 'sample')}) is in ${path} instead, a temporary directory — move it somewhere safe${kept}`);
    return { ok: false, path, data, fromMemory };
  }
  return lost(plan, sink, reporter, data);
}

function lost(plan: OutputPlan, sink: JsonlSink, reporter: Reporter, data: TimeSeriesData): Saved {
  const missing = data.countSamples() - sink.samplesWritten;
  reporter.error(`the recording could not be written anywhere: ${plan.stream} holds ${plural(sink.samplesWritten, 'sample')}; ${plural(missing, 'sample')} held in memory are lost`);
  return { ok: false, path: undefined, data, fromMemory: 0 };
}
