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

/** Several columns end to end (`concat` of them all, copying each once). */
export function concatAll(parts: readonly Columns[]): Columns {
  if (parts.length === 1) return parts[0];
  let n = 0;
  let size = 0;
  for (const p of parts) {
    n += count(p);
    size += p.values.length;
  }
  const out: Columns = {
    layoutIds: new Uint32Array(n), wallNs: new BigUint64Array(n), offsets: new Uint32Array(n + 1), values: new BigUint64Array(size), errors: [], extras: [],
  };
  let at = 0;
  let base = 0;
  for (const p of parts) {
    const k = count(p);
    out.layoutIds.set(p.layoutIds, at);
    out.wallNs.set(p.wallNs, at);
    out.values.set(p.values, base);
    for (let i = 1; i <= k; i++) out.offsets[at + i] = base + p.offsets[i];
    for (const e of p.errors) out.errors.push({ ...e, sample: e.sample + at });
    for (const e of p.extras) out.extras.push({ ...e, sample: e.sample + at });
    at += k;
    base += p.values.length;
  }
  return out;
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

/** Sample `i` of `c` alone (`pick(c, [i])`, without its bookkeeping: an open chunk's last sample, each push). */
export function one(c: Columns, i: number): Columns {
  const moved = <T extends { sample: number }>(list: readonly T[]): T[] => list.filter((e) => e.sample === i).map((e) => ({ ...e, sample: 0 }));
  return {
    layoutIds: Uint32Array.of(c.layoutIds[i]), wallNs: BigUint64Array.of(c.wallNs[i]), offsets: Uint32Array.of(0, c.offsets[i + 1] - c.offsets[i]),
    values: c.values.slice(c.offsets[i], c.offsets[i + 1]), errors: moved(c.errors), extras: moved(c.extras),
  };
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
