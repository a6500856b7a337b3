/**
 * Atomic file replacement: write a temp file beside the target, fsync it, rename it over the
 * target, fsync the directory. Readers see the old file or the new one, never a partial one; on
 * failure the temp file is removed and the old file is left as it was.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileError, GzipBatches, writeAll } from './io.js';

export interface AtomicWriteOptions {
  gzip?: boolean;
  gzipLevel?: number;
}

const BATCH = 1 << 20;

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself has happened.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Write the concatenation of `chunks` to `path` atomically; failures are FileErrors naming `path`. */
export async function writeFileAtomic(path: string, chunks: Iterable<string>, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', 0o644);
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
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw fileError(path, 'write', e);
  }
  await syncDir(dirname(path));
}
