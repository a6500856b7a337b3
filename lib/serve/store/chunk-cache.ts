/**
 * Decoded chunks, the most recently used kept up to a byte budget. For reads: closed chunks by
 * id (a closed chunk never changes; retention deletes whole chunks, and then the cache is
 * cleared), so a dashboard asking for the same hour again decodes nothing (measured, bench/serve.mjs
 * --read: an hour of one host, 29 chunks, is inflated in ~6 ms and decoded in ~30 ms, every value
 * of every sample, 14 MiB: nearly all of a first query's time; a later query of a rate, ~2-3 ms).
 * For pushes: each host's open chunk, so a push does not decode it again to grow it.
 */

/** Default budget: 64 MiB, about four hours of one host at 1 s with ~600 values a sample. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** What a cached value holds that counts: its values and times (columns or a decoded batch). */
interface Sized {
  values: BigUint64Array;
  wallNs: BigUint64Array;
  /** What it holds, when it says so itself (an open chunk kept encoded). */
  bytes?: number;
}

const sizeOf = (b: Sized): number => b.bytes ?? b.values.byteLength + b.wallNs.byteLength * 4 + 256;

export class ChunkCache<K = bigint, V extends Sized = Sized> {
  private readonly map = new Map<K, V>();
  private bytes = 0;

  constructor(private readonly budget = DEFAULT_CACHE_BYTES) {}

  get(id: K): V | undefined {
    const b = this.map.get(id);
    if (b) {
      // Most recently used last (a Map keeps insertion order).
      this.map.delete(id);
      this.map.set(id, b);
    }
    return b;
  }

  set(id: K, b: V): void {
    const size = sizeOf(b);
    this.delete(id);
    if (size > this.budget) return;
    this.map.set(id, b);
    this.bytes += size;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= sizeOf(v);
    }
  }

  delete(id: K): void {
    const old = this.map.get(id);
    if (old) {
      this.map.delete(id);
      this.bytes -= sizeOf(old);
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
