/**
 * Reading the recording a view shows (`show`, `compare`): a file or stdin, its warnings on
 * stderr, the hosts to show (`--host`, checked against the file), and the run's start.
 */
import { readRecording } from '../../files/read-recording.js';
import { Reporter } from '../output.js';
import { inputFile, namedAs, readWarnings } from '../stdin-file.js';
import { UsageError } from '../exit.js';
import { dataSamples, sampleNs } from '../../views/intervals.js';
import type { Recording } from '../../types/files.js';

export interface Loaded {
  rec: Recording;
  /** How to name the file in messages and output. */
  name: string;
}

export async function loadRecording(file: string, strict: boolean): Promise<Loaded> {
  const input = await inputFile(file);
  let rec: Recording;
  try {
    rec = await namedAs(input, readRecording(input.path, { strict }));
  } finally {
    await input.release();
  }
  const reporter = new Reporter('normal');
  for (const w of readWarnings(input.name, rec)) reporter.warn(w.split(input.path).join(input.name));
  return { rec, name: input.name };
}

/** Requested hosts first, then any others; `wanted` (--host) picks some, each checked. */
export function pickHosts(l: Loaded, wanted: readonly string[] | undefined, flag = '--host'): string[] {
  const all = [...new Set([...l.rec.data.hostsRequested, ...l.rec.data.samplesByHost.keys()])];
  if (!wanted || wanted.length === 0) return all;
  for (const h of wanted) {
    if (!all.includes(h)) throw new UsageError(`${flag} ${JSON.stringify(h)}: ${l.name} has no such host (it has ${all.join(', ') || 'none'})`);
  }
  return [...new Set(wanted)];
}

/** The first sample with data of any of `hosts`, ns (NaN when none has data). */
export function runStartNs(l: Loaded, hosts: readonly string[]): number {
  let start = Number.NaN;
  for (const h of hosts) {
    const first = dataSamples(l.rec.data.samplesByHost.get(h) ?? []).samples[0];
    if (first && !(sampleNs(first) >= start)) start = sampleNs(first);
  }
  return start;
}
