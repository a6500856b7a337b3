/**
 * Chunks, the most recently used kept up to a byte budget. For reads: closed chunks' blobs,
 * inflated, by id (a closed chunk never changes; retention deletes whole chunks, and then the
 * cache is cleared), so a dashboard asking for the same hour again inflates nothing. Blobs, not
 * decoded values: a query picks its few values from a blob (table.ts) in about the time a decoded
 * chunk was read, and a blob is ~1/14 of its values (an hour of one host at 1 s: ~1 MiB, 14 MiB
 * decoded), so the budget holds ~14× more host-hours; and the values a query picked from them
 * (table.ts). For pushes: each host's open chunk, so a push does not decode it again to grow it.
 */

/** Default budget: 64 MiB, about 60 host-hours at 1 s with ~600 values a sample. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** What a cached value holds, in bytes (said by the value itself). */
interface Sized {
  bytes: number;
}

const sizeOf = (b: Sized): number => b.bytes;

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
