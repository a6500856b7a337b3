/**
 * Where `record` writes: the final file, and the JSON Lines stream beside it while it runs (a
 * crash or SIGKILL leaves the stream, which loses at most the last interval). For --format jsonl
 * the stream is the final file.
 */
import { constants } from 'node:fs';
import { access, lstat, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileError } from '../../errors.js';

export type OutputFormat = 'json' | 'jsonl';

export interface OutputPlan {
  format: OutputFormat;
  /** The file the user asked for (or the default name). */
  output: string;
  /** The JSON Lines stream written while recording. */
  stream: string;
}

/** `hostseries-20250101T120000Z.json` */
export function defaultOutput(format: OutputFormat, now: Date): string {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `hostseries-${t}.${format}`;
}

export function formatOf(path: string): OutputFormat {
  return /\.jsonl(\.gz)?$/i.test(path) ? 'jsonl' : 'json';
}

export function planOutput(output: string | undefined, format: OutputFormat | undefined, now = new Date()): OutputPlan {
  const fmt = format ?? (output === undefined ? 'json' : formatOf(output));
  const out = output ?? defaultOutput(fmt, now);
  if (fmt === 'jsonl') return { format: fmt, output: out, stream: out };
  return { format: fmt, output: out, stream: out.replace(/(\.json)?(\.gz)?$/i, '') + '.partial.jsonl' };
}

/**
 * Fail now, before any benchmark runs, when the file could not be written at the end. (Creating
 * the stream then proves the directory writable for the rest.)
 */
export async function checkOutput(plan: OutputPlan): Promise<void> {
  const out = plan.output;
  const st = await stat(out).catch(() => undefined);
  if (st?.isDirectory()) throw new FileError(out, 'cannot write the recording: it is a directory');
  const dir = dirname(out);
  const ds = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (ds instanceof Error) {
    const why = ds.code === 'ENOENT' ? 'does not exist' : ds.code === 'ENOTDIR' ? 'is not a directory' : ds.message;
    throw new FileError(out, `cannot write the recording: directory ${dir} ${why}`, { cause: ds });
  }
  if (!ds.isDirectory()) throw new FileError(out, `cannot write the recording: ${dir} is not a directory`);
  await access(dir, constants.W_OK | constants.X_OK).catch((e: unknown) => {
    throw new FileError(out, `cannot write the recording: directory ${dir} is not writable`, { cause: e });
  });
}

/**
 * Why the stream cannot be created, when a file is already where it goes: after a crash that
 * file is the only copy of a run, so it is never truncated (the sink creates the stream new, too).
 */
export async function existingStream(plan: OutputPlan): Promise<string | undefined> {
  const s = plan.stream;
  if (!(await lstat(s).then(() => true, () => false))) return undefined;
  const tools = `\`hostseries summary ${s}\` can read it, \`hostseries convert ${s}\` turns it into JSON`;
  if (s !== plan.output) {
    return `${s} is left from an unfinished recording (killed, or still running); ${tools} — move it away to record to ${plan.output}`;
  }
  return `${s} exists and a stream is never overwritten; record to another file, or move it away (if it is a recording left unfinished, ${tools})`;
}
