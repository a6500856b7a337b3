/**
 * Chunks, the most recently used kept up to a byte budget. For reads: closed chunks' blobs,
 * inflated, by id (a closed chunk never changes; retention deletes whole chunks, and then the
 * cache is cleared), so a dashboard asking for the same hour again inflates nothing. Blobs, not
 * decoded values: a query picks its few values out of a blob (table.ts), and a blob is ~1/28 of
 * its values (measured, an hour of this machine's samples at 1 s: 0.5 MiB inflated, 14.3 MiB
 * decoded), so the budget holds that many more host-hours; and, apart, the values queries picked
 * (table.ts). For pushes: each host's open chunk, so a push does not decode it again to grow it.
 */

/** Default budget: 64 MiB, about 120 host-hours of blobs at 1 s with ~520 values a sample. */
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
