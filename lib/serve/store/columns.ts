/**
 * Sample columns (the input of `encodeSampleBlob`, and what `decodeSampleBlob` gives back) cut,
 * joined and sorted without building a single sample dict: a host's open chunk grows by its
 * columns, not by decoding its samples and encoding them again.
 */
import type { NativeBatch } from '../../native/binding.js';
import type { Columns } from '../../native/encode.js';

export const EMPTY: Columns = {
  layoutIds: new Uint32Array(0), wallNs: new BigUint64Array(0), offsets: Uint32Array.of(0),
  values: new BigUint64Array(0), errors: [], extras: [],
};

/** The columns of a decoded blob. */
export function columnsOf(b: NativeBatch): Columns {
  return { layoutIds: b.layoutIds, wallNs: b.wallNs, offsets: b.offsets, values: b.values, errors: b.errors, extras: b.extras };
}

export function count(c: Columns): number {
  return c.layoutIds.length;
}

/** `a`'s samples, then `b`'s. */
export function concat(a: Columns, b: Columns): Columns {
  const n = count(a);
  const base = a.values.length;
  const offsets = new Uint32Array(n + count(b) + 1);
  offsets.set(a.offsets.subarray(0, n + 1));
  for (let i = 1; i <= count(b); i++) offsets[n + i] = base + b.offsets[i];
  const values = new BigUint64Array(base + b.values.length);
  values.set(a.values);
  values.set(b.values, base);
  const layoutIds = new Uint32Array(n + count(b));
  layoutIds.set(a.layoutIds);
  layoutIds.set(b.layoutIds, n);
  const wallNs = new BigUint64Array(n + count(b));
  wallNs.set(a.wallNs);
  wallNs.set(b.wallNs, n);
  return {
    layoutIds, wallNs, offsets, values,
    errors: [...a.errors, ...b.errors.map((e) => ({ ...e, sample: e.sample + n }))],
    extras: [...a.extras, ...b.extras.map((e) => ({ ...e, sample: e.sample + n }))],
  };
}

/** The samples at `indices` of `c`, in that order. */
export function pick(c: Columns, indices: readonly number[]): Columns {
  const at = new Map<number, number>();
  indices.forEach((src, dst) => at.set(src, dst));
  let size = 0;
  for (const i of indices) size += c.offsets[i + 1] - c.offsets[i];
  const values = new BigUint64Array(size);
  const offsets = new Uint32Array(indices.length + 1);
  const layoutIds = new Uint32Array(indices.length);
  const wallNs = new BigUint64Array(indices.length);
  indices.forEach((src, dst) => {
    values.set(c.values.subarray(c.offsets[src], c.offsets[src + 1]), offsets[dst]);
    offsets[dst + 1] = offsets[dst] + c.offsets[src + 1] - c.offsets[src];
    layoutIds[dst] = c.layoutIds[src];
    wallNs[dst] = c.wallNs[src];
  });
  // Errors and extras keep their order within a sample (the dict's key order).
  const moved = <T extends { sample: number }>(list: readonly T[]): T[] => list
    .filter((e) => at.has(e.sample))
    .map((e) => ({ ...e, sample: at.get(e.sample)! }))
    .sort((x, y) => x.sample - y.sample);
  return { layoutIds, wallNs, offsets, values, errors: moved(c.errors), extras: moved(c.extras) };
}

/** Sample indices of `c` in wall-time order (stable). */
export function timeOrder(c: Columns): number[] {
  const idx = Array.from({ length: count(c) }, (_, i) => i);
  return idx.sort((x, y) => (c.wallNs[x] < c.wallNs[y] ? -1 : c.wallNs[x] > c.wallNs[y] ? 1 : x - y));
}

/** Whether `c`'s samples are in wall-time order already. */
export function inOrder(c: Columns): boolean {
  for (let i = 1; i < count(c); i++) if (c.wallNs[i] < c.wallNs[i - 1]) return false;
  return true;
}
