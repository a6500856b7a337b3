/**
 * A user's files are sacred: the one check every command that writes a file (`record -o`,
 * `convert -o`) makes before it starts. A regular file is replaced only with --force; a
 * directory, symbolic link, device, FIFO or socket never is. A missing or unwritable directory
 * is named as the user gave it (not by the temporary file the atomic writer would create in it).
 */
import { constants } from 'node:fs';
import { access, lstat, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileError } from '../errors.js';
import { specialKind } from '../files/io.js';

export interface NewFileOptions {
  /** Replace an existing regular file. */
  force?: boolean;
  /** What is being written, for the messages ("the recording"). */
  what: string;
}

/**
 * Throws a FileError naming `path` unless a new file can be written there (or, with `force`, a
 * regular file replaced). Returns true when a regular file is there (and `force` allows it).
 */
export async function checkNewFile(path: string, o: NewFileOptions): Promise<boolean> {
  // `newdir/` or `run.json/`: a directory's name, whatever is there; the stream beside it would
  // otherwise be reported under a name the user never gave (`newdir/.partial.jsonl`).
  if (path.endsWith('/')) throw new FileError(path, `cannot write ${o.what}: a file name is needed, not a directory (it ends with /)`);
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => e);
  if (!(st instanceof Error)) {
    const kind = specialKind(st);
    if (kind === 'a directory') throw new FileError(path, `cannot write ${o.what}: it is a directory`);
    if (kind) throw new FileError(path, `cannot write ${o.what}: it is ${kind}, which is never replaced; give a new file name with -o`);
    if (!o.force) throw new FileError(path, `exists; give --force to replace it, or -o to write ${o.what} elsewhere`);
  } else if (st.code !== 'ENOENT' && st.code !== 'ENOTDIR') {
    throw new FileError(path, `cannot write ${o.what}: ${st.message}`, { cause: st });
  }
  await checkDirectory(path, o.what);
  return !(st instanceof Error);
}

/** The directory `path` goes in exists, is a directory, and is writable. */
async function checkDirectory(path: string, what: string): Promise<void> {
  const dir = dirname(path);
  const ds = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (ds instanceof Error) {
    const why = ds.code === 'ENOENT' ? 'does not exist' : ds.code === 'ENOTDIR' ? 'is not a directory' : ds.message;
    throw new FileError(path, `cannot write ${what}: directory ${dir} ${why}`, { cause: ds });
  }
  if (!ds.isDirectory()) throw new FileError(path, `cannot write ${what}: ${dir} is not a directory`);
  await access(dir, constants.W_OK | constants.X_OK).catch((e: unknown) => {
    throw new FileError(path, `cannot write ${what}: directory ${dir} is not writable`, { cause: e });
  });
}
