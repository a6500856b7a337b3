/** File plumbing shared by the readers and writers: errors, full writes, gzip in and out. */
import { constants } from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { constants as Z, createGunzip, createGzip, type Gzip } from 'node:zlib';
import { FileError, HostseriesError } from '../errors.js';

/** A system error as a FileError naming `path` (already-coded hostseries errors pass through). */
export function fileError(path: string, action: string, err: unknown): HostseriesError {
  if (err instanceof HostseriesError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FileError(path, `cannot ${action}: ${message}`, { cause: err });
}

/** Write all of `buf` (a write may be partial). */
export async function writeAll(fh: FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    off += bytesWritten;
  }
}

/**
 * A gzip stream compressed batch by batch. Each batch ends with a sync flush, so the file is
 * decodable up to the last batch at any time (a kill loses at most the batch being written),
 * while the compressor keeps its history across batches (a sample compresses against the last).
 */
export class GzipBatches {
  private readonly gz: Gzip;
  private out: Buffer[] = [];
  private failed: Error | undefined;

  constructor(level?: number) {
    this.gz = createGzip(level === undefined ? {} : { level });
    this.gz.on('data', (c: Buffer) => this.out.push(c));
    this.gz.on('error', (e) => (this.failed = e));
  }

  private take(): Buffer {
    const b = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    return b;
  }

  /** Compress `buf` and return every byte needed to decode it. */
  push(buf: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.gz.write(buf);
      // zlib pushes the output of a flush before calling its callback.
      this.gz.flush(Z.Z_SYNC_FLUSH, () => (this.failed ? reject(this.failed) : resolve(this.take())));
    });
  }

  /** End the stream: the remaining bytes, trailer included. */
  finish(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.gz.once('end', () => resolve(this.take()));
      this.gz.once('error', reject);
      this.gz.end();
    });
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** What a non-regular file is, in words (for messages that refuse it); undefined for a regular file. */
export function specialKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The refusal of a special file as a write target: it is never replaced, with or without overwrite. */
export function neverReplaced(path: string, kind: string): FileError {
  return new FileError(path, `cannot write: it is ${kind}, which is never replaced`);
}

/**
 * Open `path` to be written from its start: created if missing, an existing regular file
 * truncated. A symbolic link (not followed: O_NOFOLLOW), directory, device, FIFO or socket is
 * refused with a FileError and left as it is. O_NONBLOCK: a FIFO swapped in after the lstat
 * cannot hang the open; the handle's fstat refuses it (or a device) before anything is written.
 */
export async function openTruncating(path: string): Promise<FileHandle> {
  const st = await lstat(path).catch(() => undefined);
  const kind = st && specialKind(st);
  if (kind) throw neverReplaced(path, kind);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw neverReplaced(path, 'a symbolic link');
    if (code === 'ENXIO') {
      // A FIFO with no reader (O_NONBLOCK refuses it) or a socket, swapped in after the lstat.
      const now = await lstat(path).then(specialKind, () => undefined);
      throw neverReplaced(path, now ?? 'a FIFO (named pipe)');
    }
    if (code === 'EISDIR') throw neverReplaced(path, 'a directory');
    throw e;
  }
  try {
    const now = specialKind(await fh.stat());
    if (now) throw neverReplaced(path, now);
    await fh.truncate(0);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
  return fh;
}

function notRegular(path: string, st: Stats): FileError {
  return new FileError(path, `cannot read: ${specialKind(st) ?? 'not a regular file'}, not a recording file`);
}

/**
 * The bytes of a file, gunzipped when it starts with the gzip magic. A truncated gzip stream
 * yields what it holds (the caller's parser notices the truncation) instead of failing.
 *
 * Only a regular file is read: a directory, FIFO or device (`/dev/zero` never ends, a FIFO
 * blocks until a writer comes) is refused at once with a FileError. The file is opened
 * non-blocking, so a FIFO swapped in after the check cannot hang the open either.
 */
export async function openInput(path: string): Promise<Readable> {
  let fh: FileHandle;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw notRegular(path, st);
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fileError(path, 'read', e);
  }
  let head: Buffer;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, st);
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    head = b.subarray(0, bytesRead);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw fileError(path, 'read', e);
  }
  const raw = fh.createReadStream({ start: 0, highWaterMark: 1 << 20 });
  if (!isGzip(head)) return raw;
  return pipeline(raw, createGunzip({ finishFlush: Z.Z_SYNC_FLUSH, chunkSize: 1 << 20 }), () => undefined);
}

/**
 * Why the first bytes of a (gunzipped) file show it is no JSON recording at all, or undefined:
 * binary data (control bytes other than whitespace, invalid UTF-8) or text that does not start
 * with a JSON object. Such a file is "not a recording", not a truncated one.
 */
export function notJsonObjectText(head: Buffer): string | undefined {
  const n = Math.min(head.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = head[i];
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return 'it holds binary data';
  }
  // Cut back to a whole UTF-8 sequence before checking the text decodes.
  let end = n;
  while (end > 0 && end > n - 4 && (head[end - 1] & 0xc0) === 0x80) end--;
  if (end > 0 && head[end - 1] >= 0xc0) end--;
  // Our files and Python's are ASCII (ensure_ascii); other text must at least be valid UTF-8.
  if (head.subarray(0, end).toString('utf8').includes('\ufffd')) return 'it holds binary data';
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // a UTF-8 byte order mark
  while (i < n && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  if (i < n && head[i] !== 0x7b) return `it does not start with a JSON object (it starts with ${JSON.stringify(head.toString('latin1', i, Math.min(i + 12, n)))})`;
  return undefined;
}
