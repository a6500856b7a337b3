/**
 * Atomic file writing: write a temp file beside the target, fsync it, publish it under the
 * target's name, fsync the directory. Readers see the old file (or none) or the new one, never a
 * partial one; on failure the temp file is removed and what was there is left as it was.
 *
 * A user's files are sacred. Without `overwrite`, the temp file is published with link(2), which
 * fails with EEXIST if anything appeared at the path meanwhile, so an existing file is never
 * replaced, race-free. With `overwrite`, only a regular file is replaced (by rename(2), which
 * swaps the directory entry and never writes through a link); a directory, symbolic link,
 * device, FIFO or socket is refused always. (On a file system without hard links, FAT for one,
 * the new name is claimed by an exclusive create and the temp file renamed onto it: as race-free,
 * but a reader may see an empty file there for that moment.)
 *
 * Every error names the path the caller gave, never the temp file's name.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileError, HostseriesError } from '../errors.js';
import { fileError, GzipBatches, neverReplaced, specialKind, writeAll } from './io.js';

export interface AtomicWriteOptions {
  gzip?: boolean;
  gzipLevel?: number;
  /** Replace an existing regular file (default false: anything at the path is refused). */
  overwrite?: boolean;
}

const BATCH = 1 << 20;

/** link(2) errors meaning the file system has no hard links (FAT, exFAT, some network file systems). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems cannot fsync a directory; the file itself is in place.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Throws a FileError unless `path` may be written: nothing there, or (with `overwrite`) a
 * regular file. lstat: a symbolic link is judged itself, not what it points to.
 */
export async function checkTarget(path: string, overwrite: boolean): Promise<void> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) {
    // ENOENT, ENOTDIR (a missing directory): the temp file's creation says which, in words.
    if (st.code === 'ENOENT' || st.code === 'ENOTDIR') return;
    throw fileError(path, 'write', st);
  }
  const kind = specialKind(st);
  if (kind) throw neverReplaced(path, kind);
  if (!overwrite) throw new FileError(path, 'already exists; pass `overwrite: true` to replace it');
}

/** Why the temp file could not be created in `dir`, in words about `dir` (not the temp name). */
async function whyNoTemp(path: string, dir: string, err: NodeJS.ErrnoException): Promise<HostseriesError> {
  const ds = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  let why: string | undefined;
  if (ds instanceof Error) {
    why = ds.code === 'ENOENT' ? `the directory ${dir} does not exist`
      : ds.code === 'ENOTDIR' ? `the directory ${dir} does not exist (part of its path is not a directory)`
      : undefined;
  } else if (!ds.isDirectory()) {
    why = `${dir} is not a directory`;
  } else if (err.code === 'EACCES' || err.code === 'EPERM') {
    why = `no permission to create a file in the directory ${dir}`;
  } else if (err.code === 'EROFS') {
    why = `the directory ${dir} is on a read-only file system`;
  }
  return why ? new FileError(path, `cannot write: ${why}`, { cause: err }) : noTempName(path, dir, err);
}

/** A system error as a FileError naming `path`, the temp file's name left out of the message. */
function noTempName(path: string, dir: string, err: NodeJS.ErrnoException): HostseriesError {
  if (err instanceof HostseriesError) return err;
  const cut = err.syscall ? err.message.indexOf(`, ${err.syscall} '`) : -1;
  if (cut < 0) return fileError(path, 'write', err);
  return new FileError(path, `cannot write: ${err.message.slice(0, cut)} (writing through a temporary file in ${dir})`, { cause: err });
}

/**
 * Publish `tmp` as `path` unless something is there: link(2) is atomic. On a file system without
 * hard links, the name is claimed with an exclusive create, then the temp file renamed onto it.
 */
async function publishNew(tmp: string, path: string, dir: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') {
      await checkTarget(path, false); // says what is there
      // It vanished again: still refused, as something was there.
      throw new FileError(path, 'already exists; pass `overwrite: true` to replace it', { cause: err });
    }
    if (!NO_HARD_LINKS.has(err.code ?? '')) throw noTempName(path, dir, err);
    await claimName(path);
    await rename(tmp, path).catch(async (e2: NodeJS.ErrnoException) => {
      await unlink(path).catch(() => undefined); // the empty file that claimed the name
      throw noTempName(path, dir, e2);
    });
    return;
  }
  await unlink(tmp).catch(() => undefined); // the file is published; a leftover second name is harmless
}

async function claimName(path: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') await checkTarget(path, false);
    throw fileError(path, 'write', e);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** The temp file's name: hidden, beside the target, short enough for any name the target may have. */
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path).slice(0, 64)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Write the concatenation of `chunks` to `path` atomically; failures are FileErrors naming
 * `path`. An existing path is refused unless `overwrite` (and then only a regular file is
 * replaced): checked before writing, so a long write is not done only to be refused, and again
 * when the file is published.
 */
export async function writeFileAtomic(path: string, chunks: Iterable<string>, options: AtomicWriteOptions = {}): Promise<void> {
  const overwrite = options.overwrite === true;
  const dir = dirname(path);
  await checkTarget(path, overwrite);
  const tmp = tempName(path);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', 0o644);
  } catch (e) {
    throw await whyNoTemp(path, dir, e as NodeJS.ErrnoException);
  }
  try {
    const gz = options.gzip ? new GzipBatches(options.gzipLevel) : undefined;
    const out = async (text: string): Promise<void> => {
      const raw = Buffer.from(text, 'utf8');
      await writeAll(fh!, gz ? await gz.push(raw) : raw);
    };
    let pending = '';
    for (const chunk of chunks) {
      pending += chunk;
      if (pending.length >= BATCH) {
        await out(pending);
        pending = '';
      }
    }
    if (pending !== '') await out(pending);
    if (gz) await writeAll(fh, await gz.finish());
    await fh.sync();
    await fh.close();
    fh = undefined;
    if (overwrite) {
      // Checked again: a special file that appeared while writing is not replaced either.
      await checkTarget(path, true);
      await rename(tmp, path).catch((e: NodeJS.ErrnoException) => {
        throw noTempName(path, dir, e);
      });
    } else {
      await publishNew(tmp, path, dir);
    }
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw noTempName(path, dir, e as NodeJS.ErrnoException);
  }
  await syncDir(dir);
}
