/**
 * Compact in-memory series of one host's samples, well under 1 KiB a sample: values are kept
 * as bytes, each sample as a bitmap of the values that changed since the previous one plus
 * their deltas as varints (most counters move little or not at all between ticks). Samples
 * live in chunks of CHUNK; every chunk starts with a full keyframe, so the oldest chunk can be
 * dropped whole (rolling window) and any sample decodes from its chunk's start.
 * Objects are built only when asked for.
 */
import type { NativeBatch, NativeLayout } from '../native/binding.js';
import { Cursor, decodeSections, LayoutCache, stamp, type LayoutInfo } from '../native/decode.js';
import type { SampleDict } from '../types/sample.js';

const CHUNK = 128;
const KEYFRAME = 1;
const DELTA = 0;
/** Tag of a value whose high word changed: 8 raw bytes follow. */
const RAW = 1;

export interface Extras {
  errors?: Record<string, string>;
  collectors?: Record<string, unknown>;
}

class Chunk {
  data = new Uint8Array(64 * 1024);
  used = 0;
  offsets: number[] | Uint32Array = [];
  layoutIds: number[] | Uint32Array = [];
  wallNs: bigint[] | BigUint64Array = [];
  monoNs: bigint[] | BigUint64Array = [];
  constructor(readonly base: number) {}

  get count(): number {
    return this.offsets.length;
  }

  /** Index a new record (the chunk is open, so its index is still plain arrays). */
  add(layoutId: number, wallNs: bigint, monoNs: bigint): void {
    (this.offsets as number[]).push(this.used);
    (this.layoutIds as number[]).push(layoutId);
    (this.wallNs as bigint[]).push(wallNs);
    (this.monoNs as bigint[]).push(monoNs);
  }

  reserve(bytes: number): void {
    if (this.used + bytes <= this.data.length) return;
    const grown = new Uint8Array(Math.max(this.data.length * 2, this.used + bytes));
    grown.set(this.data.subarray(0, this.used));
    this.data = grown;
  }

  /** Trim to size and freeze the index into typed arrays. */
  seal(): void {
    this.data = this.data.slice(0, this.used);
    this.offsets = Uint32Array.from(this.offsets as number[]);
    this.layoutIds = Uint32Array.from(this.layoutIds as number[]);
    this.wallNs = BigUint64Array.from(this.wallNs as bigint[]);
    this.monoNs = BigUint64Array.from(this.monoNs as bigint[]);
  }
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** The decoded values of the current layout, as u32 word pairs (little endian). */
class Scratch {
  values = new BigUint64Array(0);
  words = new Uint32Array(0);
  resize(n: number): void {
    if (this.values.length === n) return;
    this.values = new BigUint64Array(n);
    this.words = new Uint32Array(this.values.buffer);
  }
}

export class CompactSeries {
  private readonly chunks: Chunk[] = [];
  /** Every layout the stored samples use, by id. */
  readonly layouts = new LayoutCache();
  private readonly extras = new Map<number, Extras>();
  /** Last appended sample's words, to delta against. */
  private readonly prev = new Scratch();
  private prevLayout = -1;
  private first = 0;
  private next = 0;

  constructor(readonly hostname: string) {}

  get length(): number {
    return this.next - this.first;
  }

  /** Samples per chunk: the unit in which the oldest samples are dropped. */
  get chunkSize(): number {
    return CHUNK;
  }

  addLayouts(layouts: readonly NativeLayout[]): void {
    this.layouts.add(layouts);
  }

  /** Store sample `i` of `batch` (its layouts added first). */
  append(batch: NativeBatch, i: number, extras?: Extras): void {
    const layoutId = batch.layoutIds[i];
    const size = this.layouts.get(layoutId).size;
    const start = batch.offsets[i];
    const n = batch.offsets[i + 1] - start;
    if (n !== size) throw new Error(`hostseries: sample ${i} has ${n} values, its layout ${size}`);
    const words = new Uint32Array(batch.values.buffer, batch.values.byteOffset + start * 8, n * 2);

    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.count >= CHUNK) {
      chunk?.seal();
      chunk = new Chunk(this.next);
      this.chunks.push(chunk);
    }
    const key = chunk.count === 0 || layoutId !== this.prevLayout || this.prev.words.length !== n * 2;
    chunk.reserve(1 + (key ? n * 8 : Math.ceil(n / 8) + n * 9));
    chunk.add(layoutId, batch.wallNs[i], batch.monoNs[i]);
    chunk.used = key ? this.writeKey(chunk, words) : this.writeDelta(chunk, words, n);
    this.prev.resize(n);
    this.prev.words.set(words);
    this.prevLayout = layoutId;
    if (extras && (extras.errors || extras.collectors)) this.extras.set(this.next, extras);
    this.next++;
  }

  private writeKey(c: Chunk, words: Uint32Array): number {
    let pos = c.used;
    c.data[pos++] = KEYFRAME;
    c.data.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), pos);
    return pos + words.byteLength;
  }

  private writeDelta(c: Chunk, words: Uint32Array, n: number): number {
    const buf = c.data;
    const prev = this.prev.words;
    let pos = c.used;
    buf[pos++] = DELTA;
    const bitmap = pos;
    buf.fill(0, bitmap, bitmap + Math.ceil(n / 8));
    pos += Math.ceil(n / 8);
    for (let j = 0; j < n; j++) {
      const lo = words[2 * j];
      const hi = words[2 * j + 1];
      const plo = prev[2 * j];
      if (lo === plo && hi === prev[2 * j + 1]) continue;
      buf[bitmap + (j >> 3)] |= 1 << (j & 7);
      if (hi === prev[2 * j + 1]) {
        const d = lo - plo;
        pos = writeVarint(buf, pos, (d >= 0 ? 2 * d : -2 * d - 1) * 2);
      } else {
        buf[pos++] = RAW;
        buf.set(new Uint8Array(words.buffer, words.byteOffset + j * 8, 8), pos);
        pos += 8;
      }
    }
    return pos;
  }

  /**
   * Append under a bound of `max` samples: 'keep-first' stops keeping at `max`; 'rolling' keeps
   * the latest, dropping whole chunks once a chunk's worth lies beyond the window (readers skip
   * the rest with `dicts(length - max)`). Returns whether the sample was kept.
   */
  appendBounded(batch: NativeBatch, i: number, extras: Extras | undefined, max: number, overflow: 'keep-first' | 'rolling'): boolean {
    if (overflow === 'keep-first' && this.length >= max) return false;
    this.append(batch, i, extras);
    while (this.length - CHUNK >= max) this.dropOldestChunk();
    return true;
  }

  /** Drop the oldest chunk (for a rolling window); returns how many samples went. */
  dropOldestChunk(): number {
    if (this.chunks.length <= 1) return 0;
    const c = this.chunks.shift()!;
    for (let g = c.base; g < c.base + c.count; g++) this.extras.delete(g);
    this.first = this.chunks[0].base;
    return c.count;
  }

  /**
   * Index (0 = oldest held) of the first sample taken at or after `lastSeconds` before the newest
   * one, read from the stored clocks without decoding any sample.
   */
  indexWithin(lastSeconds: number): number {
    const newest = this.chunks[this.chunks.length - 1];
    if (!newest || newest.count === 0) return 0;
    const from = newest.monoNs[newest.count - 1] - BigInt(Math.round(lastSeconds * 1e9));
    for (const c of this.chunks) {
      for (let j = 0; j < c.count; j++) if (c.monoNs[j] >= from) return c.base + j - this.first;
    }
    return this.length;
  }

  /** Every held sample from index `from` (0 = oldest held), decoded in order. */
  *dicts(from = 0): Generator<{ dict: SampleDict; monoNs: bigint }> {
    const scratch = new Scratch();
    const startGlobal = this.first + Math.max(0, from);
    for (const c of this.chunks) {
      if (c.base + c.count <= startGlobal) continue;
      for (let j = 0; j < c.count; j++) {
        const info = this.layouts.get(c.layoutIds[j]);
        this.decodeInto(c, j, info, scratch);
        if (c.base + j < startGlobal) continue;
        const dict = stamp(c.wallNs[j], this.hostname);
        decodeSections(info, new Cursor(scratch.values, 0), dict);
        const extra = this.extras.get(c.base + j);
        if (extra?.collectors) dict.collectors = extra.collectors;
        if (extra?.errors) dict.errors = extra.errors;
        yield { dict, monoNs: c.monoNs[j] };
      }
    }
  }

  private decodeInto(c: Chunk, j: number, info: LayoutInfo, s: Scratch): void {
    const buf = c.data;
    let pos = c.offsets[j];
    const n = info.size;
    if (buf[pos++] === KEYFRAME) {
      s.resize(n);
      s.words.set(new Uint32Array(buf.buffer.slice(buf.byteOffset + pos, buf.byteOffset + pos + n * 8)));
      return;
    }
    const w = s.words;
    const bitmap = pos;
    pos += Math.ceil(n / 8);
    for (let k = 0; k < n; k++) {
      if ((buf[bitmap + (k >> 3)] & (1 << (k & 7))) === 0) continue;
      if (buf[pos] === RAW) {
        w.set(new Uint32Array(buf.buffer.slice(buf.byteOffset + pos + 1, buf.byteOffset + pos + 9)), 2 * k);
        pos += 9;
        continue;
      }
      let tag = 0;
      let mul = 1;
      for (;;) {
        const b = buf[pos++];
        tag += (b & 127) * mul;
        if (b < 128) break;
        mul *= 128;
      }
      const zz = tag / 2;
      const d = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      w[2 * k] = (w[2 * k] + d) >>> 0;
    }
  }
}
