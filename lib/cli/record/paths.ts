/**
 * Where `record` writes: the final file, and the JSON Lines stream beside it while it runs (a
 * crash or SIGKILL leaves the stream, which loses at most the last interval). For --format jsonl
 * the stream is the final file (unless --force replaces one: then it streams beside it).
 *
 * Nothing that exists is replaced: the final file only when it is a regular file and --force is
 * given; the stream never (it is created exclusively here, which also reserves a default name
 * against a second run started in the same second). `-o -` streams to a temporary directory and
 * writes the JSON to stdout at the end.
 */
import { lstat, mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileError } from '../../errors.js';
import { checkNewFile } from '../output-file.js';

export type OutputFormat = 'json' | 'jsonl';

export interface OutputPlan {
  format: OutputFormat;
  /** The file the user asked for (or the default name); '-' for stdout. */
  output: string;
  /** The JSON Lines stream written while recording (created, empty, by `prepareOutput`). */
  stream: string;
  /** The temporary directory holding the stream of a `-o -` recording. */
  tempDir?: string;
  /** --force: a regular file at `output` may be replaced. */
  force: boolean;
}

/** The refusal to start because of a file already there (a stream left by a killed run). */
export class LeftoverStream extends Error {}

const WHAT = 'the recording';

/** `hostseries-20250101T120000Z.json`; the n-th alternative when taken: `...Z-2.json`. */
export function defaultOutput(format: OutputFormat, now: Date, n = 1): string {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `hostseries-${t}${n > 1 ? `-${n}` : ''}.${format}`;
}

export function formatOf(path: string): OutputFormat {
  return /\.jsonl(\.gz)?$/i.test(path) ? 'jsonl' : 'json';
}

/** run.json → run.partial.jsonl; run.jsonl.gz → run.partial.jsonl.gz (replacing run.jsonl.gz). */
function streamName(output: string, format: OutputFormat): string {
  if (format === 'jsonl') {
    const m = /^(.*?)(\.jsonl)?(\.gz)?$/i.exec(output)!;
    return `${m[1]}.partial.jsonl${m[3] ?? ''}`;
  }
  return output.replace(/(\.json)?(\.gz)?$/i, '') + '.partial.jsonl';
}

function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

/** Create the stream file, empty, only if nothing is there; false when something is. */
async function reserve(stream: string): Promise<boolean> {
  try {
    await (await open(stream, 'wx', 0o644)).close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new FileError(stream, `cannot write ${WHAT}: ${(e as Error).message}`, { cause: e });
  }
}

/** Why the stream cannot be created: after a crash the file there is the only copy of a run. */
export function leftoverMessage(plan: OutputPlan): string {
  const s = plan.stream;
  const tools = `\`hostseries summary ${s}\` can read it, \`hostseries convert ${s}\` turns it into JSON`;
  if (s !== plan.output) {
    return `${s} is left from an unfinished recording (killed, or still running); ${tools} — move it away to record to ${plan.output}`;
  }
  return `${s} exists and a stream is never overwritten; record to another file, or move it away (if it is a recording left unfinished, ${tools})`;
}

/**
 * Check where the recording goes and reserve its stream, before any benchmark runs. Throws a
 * FileError when the output cannot be written (or exists, without --force), LeftoverStream when
 * a stream is in the way.
 */
export async function prepareOutput(output: string | undefined, format: OutputFormat | undefined, force: boolean, now = new Date()): Promise<OutputPlan> {
  if (output === '-') {
    const fmt = format ?? 'json';
    const tempDir = await mkdtemp(join(tmpdir(), 'hostseries-'));
    return { format: fmt, output, stream: join(tempDir, 'recording.partial.jsonl'), tempDir, force };
  }
  if (output === undefined) {
    const fmt = format ?? 'json';
    for (let n = 1; ; n++) {
      const name = defaultOutput(fmt, now, n);
      const plan = { format: fmt, output: name, stream: fmt === 'jsonl' ? name : streamName(name, fmt), force: false };
      // Taken (by an earlier run, or one started at the same time): the next name.
      if (await exists(name)) continue;
      try {
        await checkNewFile(name, { what: WHAT });
      } catch (e) {
        // A run holding this name finished since the line above: its file is there now.
        if (await exists(name)) continue;
        throw e;
      }
      if (!(await reserve(plan.stream))) continue;
      // A run that took this name may have finished between the check and the reservation: it
      // writes its file before it removes its stream, so the file is there now. The next name.
      if (await exists(name)) {
        await unlink(plan.stream).catch(() => undefined);
        continue;
      }
      return plan;
    }
  }
  const fmt = format ?? formatOf(output);
  const replacing = await checkNewFile(output, { force, what: WHAT });
  const plan = { format: fmt, output, stream: fmt === 'jsonl' && !replacing ? output : streamName(output, fmt), force };
  if (!(await reserve(plan.stream))) throw new LeftoverStream(leftoverMessage(plan));
  return plan;
}

/** Remove what `prepareOutput` made when nothing was recorded into it. */
export async function releaseOutput(plan: OutputPlan): Promise<void> {
  if (plan.tempDir) await rm(plan.tempDir, { recursive: true, force: true }).catch(() => undefined);
  else await unlink(plan.stream).catch(() => undefined);
}
