/**
 * A table of sample paths (`SampleStore.table`) read from decoded chunks in one pass: per sample
 * in the window its wall time and every path's value, read where `valuesAt` reads it (the same
 * slots, the same values; serve-store.spec holds them equal to `valueAt` over the samples).
 *
 * Measured (one hour at 1 s, 29 chunks, the 9 columns of a CPU rate): `valuesAt` per path and
 * chunk, then the rows matched by BigInt wall times, took ~7 ms; this pass ~1 ms. Wall times are
 * read as two 32-bit halves: compared exactly with the window's ends, made doubles with the one
 * rounding `Number(bigint)` does.
 */
import type { NativeBatch } from '../../native/binding.js';
import { slotOf, type LayoutCache, type LayoutInfo, type Slot } from '../../native/decode.js';
import type { Table } from './store.js';

const TWO32 = 4294967296;
/** A counter's high word below this is exact as a double (< 2^53). */
const SAFE_HI = 0x200000;

/** `n`'s halves (n < 2^64). */
const halves = (n: bigint): [number, number] => [Number(n >> 32n), Number(n & 0xffffffffn)];

/** (hi, lo) compared with (h, l): -1, 0, 1. */
const cmp = (hi: number, lo: number, h: number, l: number): number => (hi !== h ? (hi < h ? -1 : 1) : lo !== l ? (lo < l ? -1 : 1) : 0);

/**
 * How each column's value is read in one layout: its kind (below; 0: the layout has no such
 * value), its index in a sample's values, or its constant.
 */
interface Reads {
  kind: Uint8Array;
  at: Int32Array;
  value: Float64Array;
}
const COUNTER = 1;
const FLOAT = 2;
const CENTI = 3;
const MILLI = 4;
const CONST = 5;
const KINDS: Record<Slot['kind'], number> = { counter: COUNTER, float: FLOAT, centi: CENTI, milli: MILLI, const: CONST };

function readsOf(slots: readonly (Slot | undefined)[]): Reads {
  const r: Reads = { kind: new Uint8Array(slots.length), at: new Int32Array(slots.length), value: new Float64Array(slots.length) };
  slots.forEach((s, j) => {
    if (!s) return;
    r.kind[j] = KINDS[s.kind];
    r.at[j] = s.at;
    if (s.kind === 'const') r.value[j] = s.value;
  });
  return r;
}

/**
 * Reads by layout and paths, worked out once (measured: slotOf for every chunk of an hour was a
 * tenth of a warm query); at most MEMO_PATHS path lists a layout, the oldest forgotten first.
 */
const memo = new WeakMap<LayoutInfo, Map<string, Reads>>();
const MEMO_PATHS = 256;

function readsFor(info: LayoutInfo, paths: readonly string[]): Reads {
  let byPaths = memo.get(info);
  if (!byPaths) memo.set(info, (byPaths = new Map<string, Reads>()));
  const key = paths.join('\n');
  let r = byPaths.get(key);
  if (!r) {
    r = readsOf(paths.map((p) => slotOf(info, p.split('.'))));
    if (byPaths.size >= MEMO_PATHS) byPaths.delete(byPaths.keys().next().value!);
    byPaths.set(key, r);
  }
  return r;
}

/** Value `j` of the sample at `pos` as `valuesAt` reads it: NaN where it would give none. */
function read(r: Reads, j: number, words: Uint32Array, floats: Float64Array, pos: number): number {
  const kind = r.kind[j];
  let v: number;
  if (kind === COUNTER || kind === CENTI || kind === MILLI) {
    const at = (pos + r.at[j]) * 2;
    const hi = words[at + 1];
    const lo = words[at];
    const n = hi < SAFE_HI ? hi * TWO32 + lo : Number((BigInt(hi) << 32n) | BigInt(lo));
    v = kind === CENTI ? n / 100 : kind === MILLI ? n / 1000 : n;
  } else if (kind === FLOAT) v = floats[pos + r.at[j]];
  else if (kind === CONST) v = r.value[j];
  else return NaN;
  return Number.isFinite(v) ? v : NaN;
}

/**
 * The table of `paths` over `batches` (decoded chunks of one host, `layouts` holding their
 * layouts) for the samples with a wall time in [fromNs, toNs], in time order (stable).
 */
export function tableOf(batches: readonly NativeBatch[], layouts: LayoutCache, fromNs: bigint, toNs: bigint, paths: readonly string[]): Table {
  const [fHi, fLo] = halves(fromNs < 0n ? 0n : fromNs);
  const [tHi, tLo] = halves(toNs >= 2n ** 64n ? 2n ** 64n - 1n : toNs);
  const empty = toNs < 0n || fromNs > toNs;
  const kept: Uint8Array[] = [];
  let n = 0;
  for (const b of batches) {
    layouts.add(b.layouts);
    const wall = new Uint32Array(b.wallNs.buffer, b.wallNs.byteOffset, b.wallNs.length * 2);
    const k = new Uint8Array(b.wallNs.length);
    for (let i = 0; i < k.length && !empty; i++) {
      const hi = wall[2 * i + 1];
      const lo = wall[2 * i];
      if (cmp(hi, lo, fHi, fLo) >= 0 && cmp(hi, lo, tHi, tLo) <= 0) {
        k[i] = 1;
        n++;
      }
    }
    kept.push(k);
  }
  const timesNs = new Array<number>(n);
  const columns = paths.map(() => new Float64Array(n).fill(NaN));
  let row = 0;
  batches.forEach((b, bi) => {
    const k = kept[bi];
    const wall = new Uint32Array(b.wallNs.buffer, b.wallNs.byteOffset, b.wallNs.length * 2);
    const words = new Uint32Array(b.values.buffer, b.values.byteOffset, b.values.length * 2);
    const floats = new Float64Array(b.values.buffer, b.values.byteOffset, b.values.length);
    // A chunk's samples mostly share one layout: its slots are worked out once.
    let id = -1;
    let reads = readsOf([]);
    for (let i = 0; i < k.length; i++) {
      if (k[i] === 0) continue;
      if (b.layoutIds[i] !== id) {
        id = b.layoutIds[i];
        reads = readsFor(layouts.get(id), paths);
      }
      timesNs[row] = wall[2 * i + 1] * TWO32 + wall[2 * i];
      const pos = b.offsets[i];
      for (let j = 0; j < columns.length; j++) columns[j][row] = read(reads, j, words, floats, pos);
      row++;
    }
  });
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) if (timesNs[i] < timesNs[i - 1]) ordered = false;
  if (ordered) return { timesNs, columns };
  // Chunks may overlap (a late sample joins the open chunk): one stable sort over all.
  const idx = timesNs.map((_t, i) => i).sort((a, c) => timesNs[a] - timesNs[c] || a - c);
  return { timesNs: idx.map((i) => timesNs[i]), columns: columns.map((c) => Float64Array.from(idx, (i) => c[i])) };
}
