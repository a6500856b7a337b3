/**
 * `-` as an input file: stdin, copied to a temporary file first (the readers look at a file's
 * first bytes, then read it from the start; a pipe can do neither). Removed by `release`.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileError } from '../errors.js';

export interface InputFile {
  /** The file to read. */
  path: string;
  /** How to name it in messages ('stdin' for `-`). */
  name: string;
  release(): Promise<void>;
}

export async function inputFile(arg: string): Promise<InputFile> {
  if (arg !== '-') return { path: arg, name: arg, release: () => Promise.resolve() };
  const dir = await mkdtemp(join(tmpdir(), 'hostseries-stdin-'));
  const path = join(dir, 'stdin');
  const release = (): Promise<void> => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  try {
    await pipeline(process.stdin, createWriteStream(path, { flags: 'wx' }));
  } catch (e) {
    await release();
    throw new FileError('stdin', `cannot read: ${(e as Error).message}`, { cause: e });
  }
  return { path, name: 'stdin', release };
}

/** Errors from reading a copy of stdin name 'stdin', not the temporary file. */
export async function namedAs<T>(input: InputFile, reading: Promise<T>): Promise<T> {
  try {
    return await reading;
  } catch (e) {
    if (input.path !== input.name && e instanceof Error) e.message = e.message.split(input.path).join(input.name);
    throw e;
  }
}

/** At most this many skipped lines are named one by one. */
const NAMED_LINES = 10;

/**
 * What a reader left out or found wrong, one line each, for stderr: each skipped line of a stream
 * by number (a torn last line only when the stream was finished: after a kill it is expected),
 * and the reader's warnings.
 */
export function readWarnings(name: string, r: { complete: boolean; skipped: readonly { line: number; message: string }[]; warnings: readonly string[] }): string[] {
  const last = r.skipped.length > 0 ? r.skipped[r.skipped.length - 1] : undefined;
  // An unfinished stream's torn last line is reported with the "not finished" note instead.
  // (The reader lists it last; a kill leaves invalid JSON there.)
  const skipped = !r.complete && last?.message.startsWith('invalid JSON') ? r.skipped.slice(0, -1) : [...r.skipped];
  const out = skipped.slice(0, NAMED_LINES).map((s) => `${name} line ${s.line} skipped: ${s.message}`);
  if (skipped.length > NAMED_LINES) out.push(`${name}: ${skipped.length - NAMED_LINES} more lines skipped`);
  return [...out, ...r.warnings];
}
