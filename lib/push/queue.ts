/**
 * The push queue: samples as JSON lines, in segments, oldest first. With a directory each
 * segment is a file (`0000000000000042.jsonl`) that a sample is appended to (one write(2) a
 * line, so a killed process loses nothing it wrote, and a kill mid-write leaves at most a torn
 * last line, cut off at the next start); a segment is deleted once the server has acknowledged
 * all of it. Without a directory, or while the disk fails, segments live in memory.
 *
 * Bounded by bytes and by age: past a bound, whole segments are dropped oldest first (a segment is
 * at most an eighth of the byte bound), and the caller is told what went (count, time range).
 * Acknowledged lines are counted per segment in memory only: after a restart a partly delivered
 * segment is sent again whole, which the server's idempotence makes harmless.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileError } from '../errors.js';
import type { PushDrop, PushQueueStatus } from '../types/push.js';
import { QueueLock } from './lock.js';

const SEGMENT = /^(\d{16})\.jsonl$/;

interface Segment {
  id: number;
  /** The file (disk segments); memory segments have none. */
  file?: string;
  /** The lines, when held in memory (always for memory segments). */
  lines?: string[];
  count: number;
  bytes: number;
  firstNs?: number;
  lastNs?: number;
  /** Lines acknowledged, from the start. */
  sent: number;
  sealed: boolean;
  /** Set once deleted or dropped (a batch in flight may still point at it). */
  gone: boolean;
}

/** A batch to push: the unsent lines of the oldest segments. */
export interface Batch {
  parts: { seg: Segment; to: number }[];
  lines: string[];
  bytes: number;
}

export interface QueueBounds {
  maxBytes: number;
  maxAgeMs: number;
}

export interface Recovered {
  samples: number;
  firstNs?: number;
  lastNs?: number;
  /** Files whose torn last line was cut off, and the bytes cut. */
  torn: { file: string; bytes: number }[];
}

/** The wall time (ns) of a sample line, read from its start (`timestamp_ns`, else `timestamp`). */
export function lineNs(line: string): number | undefined {
  const head = line.slice(0, 200);
  const ns = /"timestamp_ns":(\d+)/.exec(head);
  if (ns) return Number(ns[1]);
  const ts = /"timestamp":"([^"]+)"/.exec(head);
  const ms = ts ? Date.parse(ts[1]) : NaN;
  return Number.isNaN(ms) ? undefined : ms * 1e6;
}

const fileOf = (dir: string, id: number): string => join(dir, `${String(id).padStart(16, '0')}.jsonl`);

export class PushQueue {
  readonly dir: string | undefined;
  private readonly bounds: QueueBounds;
  /** Largest segment: an eighth of the byte bound (so a drop is fine-grained), at most 4 MiB. */
  private readonly segmentBytes: number;
  private readonly segments: Segment[] = [];
  private nextId = 1;
  private fd: number | undefined;
  private lock: QueueLock | undefined;
  /** The disk failure that sent the active segment to memory, until a disk segment works again. */
  private diskFailure: FileError | undefined;

  constructor(dir: string | undefined, bounds: QueueBounds) {
    this.dir = dir;
    this.bounds = bounds;
    this.segmentBytes = Math.max(1024, Math.min(4 * 1024 * 1024, Math.floor(bounds.maxBytes / 8)));
  }

  /** Create the directory, take its lock, and find what an earlier run left (cutting torn last lines). */
  open(onStaleLock: (pid: number) => void): Recovered {
    const rec: Recovered = { samples: 0, torn: [] };
    const dir = this.dir;
    if (dir === undefined) return rec;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new FileError(dir, `cannot create the queue directory: ${(e as Error).message}`, { cause: e });
    }
    this.lock = QueueLock.acquire(dir, onStaleLock);
    try {
      const ids = readdirSync(dir).map((n) => SEGMENT.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
      for (const id of ids) {
        const file = fileOf(dir, id);
        const text = readFileSync(file, 'utf8');
        const end = text.lastIndexOf('\n') + 1;
        if (end < text.length) {
          truncateSync(file, Buffer.byteLength(text.slice(0, end)));
          rec.torn.push({ file, bytes: Buffer.byteLength(text.slice(end)) });
        }
        const lines = text.slice(0, end).split('\n').filter((l) => l !== '');
        if (lines.length === 0) {
          unlinkSync(file);
          continue;
        }
        const seg: Segment = {
          id, file, count: lines.length, bytes: Buffer.byteLength(text.slice(0, end)), sent: 0, sealed: true, gone: false,
          firstNs: lineNs(lines[0]), lastNs: lineNs(lines[lines.length - 1]),
        };
        this.segments.push(seg);
        rec.samples += seg.count;
        rec.firstNs ??= seg.firstNs;
        rec.lastNs = seg.lastNs ?? rec.lastNs;
      }
      this.nextId = (ids[ids.length - 1] ?? 0) + 1;
    } catch (e) {
      this.close();
      throw new FileError(dir, `cannot read the queue: ${(e as Error).message}`, { cause: e });
    }
    return rec;
  }

  private get active(): Segment | undefined {
    const last = this.segments[this.segments.length - 1];
    return last && !last.sealed ? last : undefined;
  }

  /**
   * Append a line (ending in '\n'). Never throws: if the disk fails, the segment is closed at its
   * last whole line and the line goes to a memory segment; the failure is returned (once per
   * episode), and the next segment tries the disk again.
   */
  append(line: string, ns: number | undefined): FileError | undefined {
    const bytes = Buffer.byteLength(line);
    let seg = this.active;
    if (seg && seg.bytes + bytes > this.segmentBytes && seg.count > 0) {
      this.seal();
      seg = undefined;
    }
    let failure: FileError | undefined;
    if (!seg) {
      seg = { id: this.nextId++, count: 0, bytes: 0, sent: 0, sealed: false, gone: false };
      if (this.dir !== undefined) {
        const file = fileOf(this.dir, seg.id);
        try {
          this.fd = openSync(file, 'wx', 0o600);
          seg.file = file;
        } catch (e) {
          failure = this.failed(file, 'create', e);
        }
      }
      seg.lines = [];
      this.segments.push(seg);
    }
    if (seg.file && this.fd !== undefined) {
      try {
        let off = 0;
        const buf = Buffer.from(line);
        while (off < buf.length) off += writeSync(this.fd, buf, off);
        // The disk works again: a later failure is news again.
        this.diskFailure = undefined;
      } catch (e) {
        failure = this.failed(seg.file, 'write', e);
        // Cut back to the last whole line; that segment ends there, and this line starts a memory one.
        try {
          ftruncateSync(this.fd, seg.bytes);
        } catch { /* the next start cuts a torn line anyway */ }
        this.seal();
        if (seg.count === 0) this.remove(seg);
        seg = { id: this.nextId++, count: 0, bytes: 0, sent: 0, sealed: false, gone: false, lines: [] };
        this.segments.push(seg);
      }
    }
    seg.lines?.push(line);
    seg.count++;
    seg.bytes += bytes;
    seg.firstNs ??= ns;
    seg.lastNs = ns ?? seg.lastNs;
    return failure;
  }

  private failed(file: string, action: string, e: unknown): FileError | undefined {
    const first = this.diskFailure === undefined;
    this.diskFailure = new FileError(file, `cannot ${action} the queue segment (samples are kept in memory meanwhile): ${(e as Error).message}`, { cause: e });
    return first ? this.diskFailure : undefined;
  }

  /** End the active segment: the next line starts another. */
  seal(): void {
    const seg = this.active;
    if (!seg) return;
    seg.sealed = true;
    if (seg.file && this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch { /* written already */ }
      this.fd = undefined;
      // Its lines are read back when its turn comes; the newest segment keeps them (pushed next).
      if (this.segments.some((s) => s !== seg && !s.gone && s.sealed && s.sent < s.count)) seg.lines = undefined;
    }
  }

  /** Samples and bytes queued (not yet acknowledged). */
  status(): PushQueueStatus {
    let samples = 0;
    let bytes = 0;
    let oldestNs: number | undefined;
    let newestNs: number | undefined;
    for (const s of this.segments) {
      if (s.sent >= s.count) continue;
      samples += s.count - s.sent;
      bytes += s.bytes;
      oldestNs ??= s.firstNs;
      newestNs = s.lastNs ?? newestNs;
    }
    return { samples, bytes, oldestNs, newestNs };
  }

  /** Samples held in memory only (not on disk), as lines. */
  memoryLines(): string[] {
    const out: string[] = [];
    for (const s of this.segments) if (!s.file && s.lines) out.push(...s.lines.slice(s.sent));
    return out;
  }

  private linesOf(seg: Segment): string[] {
    if (seg.lines) return seg.lines;
    const text = readFileSync(seg.file!, 'utf8');
    const lines = text.split('\n').filter((l) => l !== '').map((l) => l + '\n');
    seg.count = lines.length;
    seg.lines = lines;
    return lines;
  }

  /**
   * The oldest unsent lines, up to `maxBytes` (at least one line). The active segment is sealed
   * first when nothing older waits, so that what was just written goes out now. Throws a
   * FileError when a segment cannot be read (it is then dropped by the caller's `dropBatch`).
   */
  take(maxBytes: number): Batch | undefined {
    const pending = (): Segment[] => this.segments.filter((s) => !s.gone && s.sealed && s.sent < s.count);
    if (pending().length === 0) this.seal();
    const batch: Batch = { parts: [], lines: [], bytes: 0 };
    for (const seg of pending()) {
      let lines: string[];
      try {
        lines = this.linesOf(seg);
      } catch (e) {
        this.remove(seg);
        throw new FileError(seg.file ?? '(memory)', `cannot read the queue segment; its ${seg.count - seg.sent} samples are lost: ${(e as Error).message}`, { cause: e });
      }
      let i = seg.sent;
      while (i < lines.length && (batch.lines.length === 0 || batch.bytes + Buffer.byteLength(lines[i]) <= maxBytes)) {
        batch.bytes += Buffer.byteLength(lines[i]);
        batch.lines.push(lines[i]);
        i++;
      }
      if (i > seg.sent) batch.parts.push({ seg, to: i });
      if (i < lines.length) break;
    }
    return batch.lines.length > 0 ? batch : undefined;
  }

  /** The batch is delivered (or given up): its lines leave the queue; spent segments are deleted. */
  ack(batch: Batch): void {
    for (const { seg, to } of batch.parts) {
      if (seg.gone) continue;
      seg.sent = Math.max(seg.sent, to);
      if (seg.sealed && seg.sent >= seg.count) this.remove(seg);
    }
  }

  private remove(seg: Segment): void {
    seg.gone = true;
    seg.lines = undefined;
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    if (seg.file) {
      try {
        unlinkSync(seg.file);
      } catch { /* gone already */ }
    }
  }

  /**
   * Apply the bounds: drop segments older than the age bound, then the oldest while over the byte
   * bound (never the active one, nor one in `busy`, a batch in flight). Returns what went.
   */
  enforce(nowMs: number, busy?: Batch): PushDrop[] {
    const drops: PushDrop[] = [];
    const inFlight = new Set(busy?.parts.map((p) => p.seg));
    const dropWhile = (reason: 'age' | 'bytes', cond: (s: Segment) => boolean): void => {
      const d: PushDrop = { reason, count: 0 };
      for (const seg of [...this.segments]) {
        if (!seg.sealed && this.segments.length > 1 && reason === 'bytes') continue;
        if (inFlight.has(seg) || !cond(seg)) {
          if (reason === 'age') break; // oldest first: the rest is newer
          continue;
        }
        if (!seg.sealed) this.seal();
        d.count += seg.count - seg.sent;
        d.fromNs ??= seg.firstNs;
        d.toNs = seg.lastNs ?? d.toNs;
        this.remove(seg);
      }
      if (d.count > 0) drops.push(d);
    };
    const cutoffNs = (nowMs - this.bounds.maxAgeMs) * 1e6;
    dropWhile('age', (s) => s.lastNs !== undefined && s.lastNs < cutoffNs);
    let total = this.segments.reduce((n, s) => n + s.bytes, 0);
    if (total > this.bounds.maxBytes) {
      dropWhile('bytes', (s) => {
        if (total <= this.bounds.maxBytes) return false;
        total -= s.bytes;
        return true;
      });
    }
    return drops;
  }

  /** Bytes on disk of the queue's files (for tests and status). */
  diskBytes(): number {
    let n = 0;
    for (const s of this.segments) if (s.file) n += statSync(s.file, { throwIfNoEntry: false })?.size ?? 0;
    return n;
  }

  /** Close the active file and release the lock; what is queued stays for the next run. */
  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch { /* written already */ }
      this.fd = undefined;
    }
    const a = this.active;
    if (a) a.sealed = true;
    this.lock?.release();
    this.lock = undefined;
  }
}
