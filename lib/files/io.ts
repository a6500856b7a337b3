/** File plumbing shared by the readers and writers: errors, full writes, gzip in and out. */
import { open, type FileHandle } from 'node:fs/promises';
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

/**
 * The bytes of a file, gunzipped when it starts with the gzip magic. A truncated gzip stream
 * yields what it holds (the caller's parser notices the truncation) instead of failing.
 */
export async function openInput(path: string): Promise<Readable> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileError(path, 'read', e);
  }
  let head: Buffer;
  try {
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
