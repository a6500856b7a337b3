/**
 * A table of sample paths (`SampleStore.table`) read from stored chunks in one pass: per sample
 * in the window its wall time and every path's value, read where `valuesAt` reads it (the same
 * slots, the same values; serve-store.spec holds them equal to `valueAt` over the samples).
 *
 * The core picks only the paths' values out of each chunk (`pickSampleBlob`): measured, bench/serve.mjs
 * --read, decoding every value of an hour's chunks (14 MiB) was ~60% of a query whose chunks were
 * not decoded already. Wall times are read as two 32-bit halves: compared exactly with the window's
 * ends, made doubles with the one rounding `Number(bigint)` does.
 */
import { binding, type PickedValues, type SamplePicks } from '../../native/binding.js';
import { slotOf, type LayoutCache, type LayoutInfo, type Slot } from '../../native/decode.js';
import type { ChunkCache } from './chunk-cache.js';
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

/** A value the core does not pick (`pickSampleBlob`'s none). */
const NONE = 0xffffffff;

/** What the core picks for a host's layouts and paths, and how each picked value is read. */
interface Plan {
  /** The paths, joined: the plan's key (and its picks' in a PickCache). */
  key: string;
  /** Layouts it was worked out for (a host's layouts only grow). */
  layouts: number;
  picks: SamplePicks;
  /** By layout id: column `j` is value `j` of a picked row (its kind), or the layout's constant. */
  reads: Map<number, Reads>;
}

/**
 * Plans by layouts and paths, worked out once (measured: slotOf for every chunk of an hour was a
 * tenth of a warm query); at most MEMO_PATHS path lists a host, the oldest forgotten first.
 */
const memo = new WeakMap<LayoutCache, Map<string, Plan>>();
const MEMO_PATHS = 256;

function planOf(layouts: LayoutCache, paths: readonly string[], key: string): Plan {
  const ids = layouts.ids();
  const k = paths.length;
  const at = new Uint32Array(ids.length * k).fill(NONE);
  const reads = new Map<number, Reads>();
  const segs = paths.map((p) => p.split('.'));
  ids.forEach((id, i) => {
    const info: LayoutInfo = layouts.get(id);
    const r = readsOf(segs.map((s) => slotOf(info, s)));
    for (let j = 0; j < k; j++) {
      if (r.kind[j] !== 0 && r.kind[j] !== CONST) at[i * k + j] = r.at[j];
      r.at[j] = j;
    }
    reads.set(id, r);
  });
  return { key, layouts: ids.length, picks: { k, layoutIds: Uint32Array.from(ids), at }, reads };
}

function planFor(layouts: LayoutCache, paths: readonly string[]): Plan {
  let byPaths = memo.get(layouts);
  if (!byPaths) memo.set(layouts, (byPaths = new Map<string, Plan>()));
  const key = paths.join('\n');
  let plan = byPaths.get(key);
  if (!plan || plan.layouts !== layouts.size) {
    plan = planOf(layouts, paths, key);
    byPaths.delete(key);
    if (byPaths.size >= MEMO_PATHS) byPaths.delete(byPaths.keys().next().value!);
    byPaths.set(key, plan);
  }
  return plan;
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

/** A chunk to read: its blob (made when needed), and its id when it is closed (it never changes). */
export interface ChunkSource {
  id?: bigint;
  blob: () => Buffer;
}

/** Values picked from closed chunks, by chunk id and paths. */
export type PickCache = ChunkCache<string, { picked: PickedValues; bytes: number }>;

/**
 * The chunk's picked values, kept for a closed one (measured, bench/serve.mjs --read: picking an
 * hour's 9 columns of a CPU rate was ~1.5 ms of a 4 ms query; a dashboard asks the same again).
 */
function pickedOf(chunk: ChunkSource, plan: Plan, cache: PickCache | undefined): PickedValues {
  if (chunk.id === undefined || !cache) return binding().pickSampleBlob(chunk.blob(), plan.picks);
  // A closed chunk's layouts were known when the plan was made: its picks stay right.
  const key = `${chunk.id}\n${plan.key}`;
  const hit = cache.get(key);
  if (hit) return hit.picked;
  const picked = binding().pickSampleBlob(chunk.blob(), plan.picks);
  cache.set(key, { picked, bytes: picked.values.byteLength + picked.wallNs.byteLength + picked.layoutIds.byteLength + key.length + 128 });
  return picked;
}

/**
 * The table of `paths` over `chunks` (one host's, their layouts in `layouts`) for the samples
 * with a wall time in [fromNs, toNs], in time order (stable); closed chunks' picks kept in `cache`.
 */
export function tableOf(chunks: readonly ChunkSource[], layouts: LayoutCache, fromNs: bigint, toNs: bigint, paths: readonly string[], cache?: PickCache): Table {
  const [fHi, fLo] = halves(fromNs < 0n ? 0n : fromNs);
  const [tHi, tLo] = halves(toNs >= 2n ** 64n ? 2n ** 64n - 1n : toNs);
  const empty = toNs < 0n || fromNs > toNs;
  const plan = planFor(layouts, paths);
  const k = paths.length;
  const picked: PickedValues[] = [];
  const kept: Uint8Array[] = [];
  let n = 0;
  for (const chunk of empty ? [] : chunks) {
    const b = pickedOf(chunk, plan, cache);
    const wall = new Uint32Array(b.wallNs.buffer, b.wallNs.byteOffset, b.wallNs.length * 2);
    const keep = new Uint8Array(b.wallNs.length);
    for (let i = 0; i < keep.length; i++) {
      const hi = wall[2 * i + 1];
      const lo = wall[2 * i];
      if (cmp(hi, lo, fHi, fLo) >= 0 && cmp(hi, lo, tHi, tLo) <= 0) {
        keep[i] = 1;
        n++;
      }
    }
    picked.push(b);
    kept.push(keep);
  }
  const timesNs = new Array<number>(n);
  const columns = paths.map(() => new Float64Array(n).fill(NaN));
  let row = 0;
  picked.forEach((b, bi) => {
    const keep = kept[bi];
    const wall = new Uint32Array(b.wallNs.buffer, b.wallNs.byteOffset, b.wallNs.length * 2);
    const words = new Uint32Array(b.values.buffer, b.values.byteOffset, b.values.length * 2);
    const floats = new Float64Array(b.values.buffer, b.values.byteOffset, b.values.length);
    // A chunk's samples mostly share one layout.
    let id = -1;
    let reads = readsOf([]);
    for (let i = 0; i < keep.length; i++) {
      if (keep[i] === 0) continue;
      if (b.layoutIds[i] !== id) {
        id = b.layoutIds[i];
        // The core refuses a chunk with a layout the plan does not name: every id is here.
        reads = plan.reads.get(id) ?? readsOf([]);
      }
      timesNs[row] = wall[2 * i + 1] * TWO32 + wall[2 * i];
      const pos = i * k;
      for (let j = 0; j < k; j++) columns[j][row] = read(reads, j, words, floats, pos);
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
