/**
 * Cuts the remote loop's byte stream into frames (format in script.ts). Anything before the
 * first marker (login banners, rc-file output) is skipped; section text stays as Buffers (no
 * string copy) until the native parsers read it.
 */
import { METRICS, type Metric } from '../types/sample.js';
import { markerFor } from './script.js';

export interface HelloFrame {
  kind: 'hello';
  version: number;
  bootId: string;
  hostname: string;
  shell: 'bash' | 'sh';
}

export interface SampleFrame {
  kind: 'sample';
  tick: number;
  sections: Partial<Record<Metric, Buffer>>;
  /** Files the remote could not read. */
  missing: Metric[];
  bytes: number;
  /** Watched processes' files (when processes are watched). */
  procs?: ProcSections;
}

/** The process part of a frame, as the native ProcParser takes it (`RemoteProcsInit`). */
export interface ProcSections {
  btime: number;
  uptime?: Buffer;
  /** The tick line's request, echoed. */
  asked: string;
  /** Per file: its process, its name (`stat`, `status`, `io`, `io!`, `cmdline`, `cmdline?`), its text. */
  pids: number[];
  files: string[];
  texts: Buffer[];
  truncated: boolean;
  noCmdline: boolean;
}

const PROC_FILE_NAMES: ReadonlySet<string> = new Set(['stat', 'status', 'io', 'io!', 'cmdline', 'cmdline?']);

/** The answer to a keep-alive `p` line. */
export interface PongFrame {
  kind: 'pong';
}

export type Frame = HelloFrame | SampleFrame | PongFrame;

/** Bytes kept while waiting for a marker; beyond it, older noise is dropped. */
const MAX_PENDING = 4 << 20;

export class FrameParser {
  private readonly marker: Buffer;
  private readonly end: Buffer;
  /** Unconsumed bytes: a view of `store` (or of the last chunk, before anything had to be kept). */
  private buf: Buffer = Buffer.alloc(0);
  /** Growable backing store: a frame arrives in many small chunks (bash flushes its stdout per line). */
  private store: Buffer = Buffer.alloc(0);
  /** Bytes of `buf` already known not to hold the end marker. */
  private scanned = 0;
  /** Bytes skipped before the first marker (rc-file noise), for diagnostics. */
  noiseBytes = 0;
  private synced = false;

  constructor(nonce: string) {
    const m = markerFor(nonce);
    this.marker = Buffer.from(m);
    this.end = Buffer.from(`${m}:E `);
  }

  /**
   * Feed a chunk; returns the frames it completed, in order. Their section Buffers are views
   * into this parser's memory: valid until the next push().
   */
  push(chunk: Buffer): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    for (;;) {
      if (!this.synced) {
        const at = this.buf.indexOf(this.marker);
        if (at < 0) {
          const keep = this.marker.length - 1;
          if (this.buf.length > keep) {
            this.noiseBytes += this.buf.length - keep;
            this.buf = this.buf.subarray(this.buf.length - keep);
          }
          return frames;
        }
        this.noiseBytes += at;
        this.buf = this.buf.subarray(at);
        this.synced = true;
      }
      // Every frame starts with the marker here; its kind is the byte after `M:`.
      const kind = this.buf[this.marker.length + 1];
      if (kind === undefined) return frames;
      if (kind === 0x48 /* H */ || kind === 0x50 /* P */) {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) return this.guard(frames);
        frames.push(kind === 0x50 ? { kind: 'pong' } : this.hello(this.buf.subarray(this.marker.length + 3, nl).toString('latin1')));
        this.buf = this.buf.subarray(nl + 1);
        this.scanned = 0;
        continue;
      }
      if (kind !== 0x46 /* F */) {
        // Not a frame start: resynchronise on the next marker.
        this.synced = false;
        this.buf = this.buf.subarray(1);
        continue;
      }
      const endAt = this.buf.indexOf(this.end, Math.max(0, this.scanned - this.end.length));
      if (endAt < 0) {
        this.scanned = this.buf.length;
        return this.guard(frames);
      }
      const endNl = this.buf.indexOf(0x0a, endAt);
      if (endNl < 0) {
        this.scanned = endAt;
        return frames;
      }
      frames.push(this.sample(this.buf.subarray(0, endAt), this.buf.subarray(endAt + this.end.length, endNl).toString('latin1')));
      this.buf = this.buf.subarray(endNl + 1);
      this.scanned = 0;
    }
  }

  /** Append `chunk` to the unconsumed bytes, copying each byte about once. */
  private append(chunk: Buffer): void {
    if (this.buf.length === 0) {
      this.buf = chunk; // nothing pending: parse the chunk in place
      return;
    }
    const need = this.buf.length + chunk.length;
    const inStore = this.buf.buffer === this.store.buffer && this.buf.byteOffset >= this.store.byteOffset;
    const start = inStore ? this.buf.byteOffset - this.store.byteOffset : -1;
    if (inStore && start + need <= this.store.length) {
      chunk.copy(this.store, start + this.buf.length);
      this.buf = this.store.subarray(start, start + need);
      return;
    }
    if (this.store.length < need) this.store = Buffer.allocUnsafe(Math.max(need * 2, 16 * 1024));
    // Move the pending bytes to the front (copy handles overlap), then add the chunk.
    this.buf.copy(this.store, 0);
    chunk.copy(this.store, this.buf.length);
    this.buf = this.store.subarray(0, need);
  }

  private guard(frames: Frame[]): Frame[] {
    if (this.buf.length > MAX_PENDING) {
      // A frame this large is not ours; drop it and look for the next marker.
      this.synced = false;
      this.buf = this.buf.subarray(1);
      this.scanned = 0;
    }
    return frames;
  }

  private hello(line: string): HelloFrame {
    const [version, bootId = '', hostname = '', shell] = line.split(' ');
    return { kind: 'hello', version: Number(version), bootId, hostname, shell: shell === 'bash' ? 'bash' : 'sh' };
  }

  /** `frame` runs from `M:F <tick>\n` up to (not including) the end marker. */
  private sample(frame: Buffer, endTick: string): SampleFrame {
    const headNl = frame.indexOf(0x0a);
    const tick = Number(frame.subarray(this.marker.length + 3, headNl).toString('latin1'));
    const out: SampleFrame = { kind: 'sample', tick, sections: {}, missing: [], bytes: frame.length };
    if (String(tick) !== endTick.trim()) out.tick = -1; // torn frame: header and trailer disagree
    let pos = headNl + 1;
    while (pos < frame.length) {
      const at = frame.indexOf(this.marker, pos);
      if (at < 0) break;
      const nl = frame.indexOf(0x0a, at);
      if (nl < 0) break;
      const head = frame.subarray(at + this.marker.length + 1, nl).toString('latin1');
      const next = frame.indexOf(this.marker, nl + 1);
      const body = frame.subarray(nl + 1, next < 0 ? frame.length : next);
      const [tag, name, file] = head.split(' ') as [string, string | undefined, string | undefined];
      if (tag === 'f' || tag === 'x') {
        if (name && (METRICS as readonly string[]).includes(name)) {
          if (tag === 'f') out.sections[name as Metric] = body;
          else out.missing.push(name as Metric);
        }
      } else {
        this.procPart(out, tag, head, name, file, body);
      }
      pos = next < 0 ? frame.length : next;
    }
    return out;
  }

  /** A section of the process part (format in script.ts); anything unknown is skipped. */
  private procPart(out: SampleFrame, tag: string, head: string, name: string | undefined, file: string | undefined, body: Buffer): void {
    if (tag !== 'w' && tag !== 'u' && tag !== 'p' && tag !== 'o' && tag !== 'n') return;
    const p = (out.procs ??= { btime: 0, asked: '', pids: [], files: [], texts: [], truncated: false, noCmdline: false });
    if (tag === 'w') p.asked = head.slice(2);
    else if (tag === 'u') {
      p.btime = Number(name) || 0;
      p.uptime = body;
    } else if (tag === 'o') p.truncated = true;
    else if (tag === 'n') p.noCmdline = true;
    else {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid < 1 || pid > 0xffffffff || file === undefined || !PROC_FILE_NAMES.has(file)) return;
      p.pids.push(pid);
      p.files.push(file);
      p.texts.push(body);
    }
  }
}
