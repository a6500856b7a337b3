/**
 * A real recording for the view specs (show, export, compare, summary): `record -i 0.2 -d 2`
 * around a command that writes to disk with O_DIRECT (so the disk rows have I/O), made once per
 * spec file in its scratch directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRecording } from '../../lib/files/read-recording.js';
import type { TimeSeriesSample } from '../../lib/models/sample.js';
import { dataSamples } from '../../lib/views/intervals.js';
import { cli } from './cli.js';

/** Writes 40 MiB with O_DIRECT (dd), then waits, so the run has disk I/O in its middle. */
export const DISK_IO_COMMAND = ['sh', '-c', 'dd if=/dev/zero of=io.bin bs=1M count=40 oflag=direct 2>/dev/null; sleep 0.6; rm -f io.bin'];

export function makeRecording(dir: string, name = 'run.json', extra: string[] = []): string {
  const out = join(dir, name);
  if (existsSync(out)) return out;
  const r = cli(['record', '-q', '-i', '0.2', '-d', '2', ...extra, '-o', name, '--', ...DISK_IO_COMMAND], { cwd: dir, timeoutMs: 30_000 });
  if (r.status !== 0) throw new Error(`record failed (${r.status}): ${r.stderr}`);
  return out;
}

/** The host's samples with data, in time order, and the file's interval. */
export async function hostSamples(path: string): Promise<{ host: string; samples: TimeSeriesSample[]; nominal: number }> {
  const rec = await readRecording(path);
  const [host, all] = [...rec.data.samplesByHost][0];
  return { host, samples: dataSamples(all).samples, nominal: rec.data.collectionIntervalSeconds };
}
