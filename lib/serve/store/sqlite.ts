/**
 * The embedded store: one SQLite file (WAL) holding, per host, its samples as chunks of up to 128
 * in the core's compact encoding (`encodeSampleBlob`: a keyframe, then changed-value bitmaps and
 * varint deltas; a closed chunk deflated too), its layouts (the shape of its samples, kept once),
 * and what the host said of itself.
 *
 * A host's open chunk grows with each push (the new samples' bytes appended, its row rewritten in
 * the push's transaction) and is closed at 128 samples. A push is one transaction; it returns once committed, and with WAL a
 * commit is in the file before `put` returns, so a killed server keeps every sample it
 * acknowledged (synchronous=NORMAL: only a power loss can take the last commits back; `sync:
 * 'full'` fsyncs each commit for that too).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

import { binding } from '../../native/binding.js';
import type { NativeBatch } from '../../native/binding.js';
import { decodeBatch, LayoutCache, type SectionFilter } from '../../native/decode.js';
import { layoutFromJson, layoutJson, LayoutRegistry, toColumns, type Columns, type StoredLayout } from '../../native/encode.js';
import type { SampleDict } from '../../types/sample.js';
import { ChunkCache, DEFAULT_CACHE_BYTES } from './chunk-cache.js';
import { columnsOf, concat, count, inOrder, one, pick, timeOrder } from './columns.js';
import { tableOf, type PickCache } from './table.js';
import { wallNsOf, type ColumnBatch, type ExpireResult, type HostRecord, type Points, type PushMeta, type PutResult, type SampleStore, type Table } from './store.js';

/** Samples per chunk: a chunk of 128 deflates to ~40 B a sample (the keyframe is shared by all). */
export const CHUNK_SAMPLES = 128;

const CODEC_RAW = 0;
const CODEC_DEFLATE = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hosts (
  hostname TEXT PRIMARY KEY,
  tags TEXT NOT NULL DEFAULT '{}',
  agent TEXT,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  push_interval_ms INTEGER,
  samples INTEGER NOT NULL DEFAULT 0,
  first_ns INTEGER,
  last_ns INTEGER
);
CREATE TABLE IF NOT EXISTS layouts (
  hostname TEXT NOT NULL,
  id INTEGER NOT NULL,
  layout TEXT NOT NULL,
  PRIMARY KEY (hostname, id)
);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  hostname TEXT NOT NULL,
  first_ns INTEGER NOT NULL,
  last_ns INTEGER NOT NULL,
  count INTEGER NOT NULL,
  closed INTEGER NOT NULL,
  codec INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_time ON chunks (hostname, last_ns, first_ns);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_open ON chunks (hostname) WHERE closed = 0;
`;

export interface SqliteStoreOptions {
  /** `normal` (default: a killed process loses nothing committed) or `full` (a power loss neither). */
  sync?: 'normal' | 'full';
  /** Bytes of closed chunks (inflated) kept for reads, and of open chunks kept for pushes (0: none). */
  cacheBytes?: number;
}

interface ChunkRow {
  id: bigint;
  first_ns: bigint;
  last_ns: bigint;
  count: bigint;
  closed: bigint;
  codec: bigint;
  data: Buffer;
}

interface HostRow {
  hostname: string;
  tags: string;
  agent: string | null;
  first_seen_ms: bigint;
  last_seen_ms: bigint;
  push_interval_ms: bigint | null;
  samples: bigint;
  first_ns: bigint | null;
  last_ns: bigint | null;
}

/**
 * A host's open chunk as its row holds it (encoded), with its last sample alone: new samples are
 * appended to the bytes (see `appended`) instead of the chunk being encoded again whole.
 */
interface OpenChunk {
  id: bigint;
  count: number;
  blob: Buffer;
  /** The last sample's columns, and the length of the blob of it alone. */
  last: Columns;
  lastBlobBytes: number;
  /** For the cache's budget: the last sample's values and time, and the bytes held in all. */
  values: BigUint64Array;
  wallNs: BigUint64Array;
  bytes: number;
}

const BLOB_MAGIC = Buffer.from('HSB1', 'latin1');

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** The open chunk `blob` (of `count` samples) with its last sample `last` as columns. */
function openChunkOf(id: bigint, blob: Buffer, count: number, last: Columns): OpenChunk {
  const lastBlobBytes = binding().encodeSampleBlob(last).length;
  return { id, count, blob, last, lastBlobBytes, values: last.values, wallNs: last.wallNs, bytes: blob.length + last.values.byteLength + 512 };
}

/**
 * The blob of `o`'s samples then `more`'s, made from `o`'s bytes: a sample is encoded against the
 * one before it only, so the new samples' bytes are those of a blob of [o's last, ...more] after
 * its first sample (byte for byte what encoding all again gives; a test holds the two equal).
 * Measured: encoding the open chunk again whole was most of a push's time in the store.
 */
function appended(o: OpenChunk, more: Columns): Buffer {
  const k = count(more);
  const withLast = binding().encodeSampleBlob(concat(o.last, more));
  // Skip the header ("HSB1", varint(k + 1)) and the last sample (its blob alone less "HSB1", varint(1)).
  const tail = withLast.subarray(4 + varintBytes(k + 1) + (o.lastBlobBytes - 5));
  const body = o.blob.subarray(4 + varintBytes(o.count));
  return Buffer.concat([BLOB_MAGIC, varint(o.count + k), body, tail]);
}

/** A host's layouts: by shape (to encode) and by id (to decode). */
interface HostLayouts {
  registry: LayoutRegistry;
  cache: LayoutCache;
  /** A sender's layout (an object a compact push's ingest keeps for the same text) → ours. */
  theirs: WeakMap<StoredLayout, StoredLayout>;
}

/** The median gap between sorted times (ns), or undefined with fewer than two. */
function medianGapMs(walls: bigint[]): number | undefined {
  if (walls.length < 2) return undefined;
  const sorted = [...walls].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const gaps = sorted.slice(1).map((w, i) => Number(w - sorted[i]) / 1e6).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

export class SqliteStore implements SampleStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly layouts = new Map<string, HostLayouts>();
  private readonly st: Record<string, Database.Statement>;
  /** Closed chunks' blobs, inflated (~1/28 of their values decoded: that many more hours in the budget). */
  private readonly cache: ChunkCache<bigint, { blob: Buffer; bytes: number }>;
  /** Values picked from closed chunks for the paths asked (a quarter of the cache's budget). */
  private readonly picks: PickCache;
  /**
   * Each host's open chunk, encoded, with its last sample as columns, so a push appends to it
   * without decoding it or encoding it again (measured: the decode was ~35 µs of a pushed sample's
   * ~150 µs in store.put, pushes of 10; the encoding again ~25 µs). Checked against the row (id and
   * count) before use; dropped when a push fails.
   */
  private readonly openChunks: ChunkCache<string, OpenChunk>;
  /** When this store was opened (ms): gaps between pushes are measured from then on. */
  private readonly openedMs = Date.now();

  constructor(dir: string, options: SqliteStoreOptions = {}) {
    this.cache = new ChunkCache(options.cacheBytes);
    this.picks = new ChunkCache(Math.floor((options.cacheBytes ?? DEFAULT_CACHE_BYTES) / 4));
    this.openChunks = new ChunkCache(options.cacheBytes);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'hostseries.db');
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.defaultSafeIntegers(true);
    this.db.exec(SCHEMA);
    const prep = (sql: string): Database.Statement => this.db.prepare(sql);
    this.st = {
      overlapping: prep('SELECT id, first_ns, last_ns, count, closed, codec, data FROM chunks WHERE hostname = ? AND last_ns >= ? AND first_ns <= ? ORDER BY first_ns, id'),
      // The same chunks without their bytes (a table's reads find most in the caches), and the bytes of one.
      overlappingIds: prep('SELECT id, closed FROM chunks WHERE hostname = ? AND last_ns >= ? AND first_ns <= ? ORDER BY first_ns, id'),
      chunkData: prep('SELECT id, first_ns, last_ns, count, closed, codec, data FROM chunks WHERE id = ?'),
      open: prep('SELECT id, first_ns, last_ns, count, closed, codec, data FROM chunks WHERE hostname = ? AND closed = 0'),
      lastLayout: prep('SELECT layout FROM layouts WHERE hostname = ? ORDER BY id DESC LIMIT 1'),
      openMeta: prep('SELECT id, count FROM chunks WHERE hostname = ? AND closed = 0'),
      insertChunk: prep('INSERT INTO chunks (hostname, first_ns, last_ns, count, closed, codec, data) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateChunk: prep('UPDATE chunks SET first_ns = ?, last_ns = ?, count = ?, closed = ?, codec = ?, data = ? WHERE id = ?'),
      appendChunk: prep('UPDATE chunks SET last_ns = ?, count = ?, closed = ?, codec = ?, data = ? WHERE id = ?'),
      layouts: prep('SELECT layout FROM layouts WHERE hostname = ? ORDER BY id'),
      insertLayout: prep('INSERT INTO layouts (hostname, id, layout) VALUES (?, ?, ?)'),
      host: prep('SELECT * FROM hosts WHERE hostname = ?'),
      hosts: prep('SELECT * FROM hosts ORDER BY hostname'),
      upsertHost: prep(`INSERT INTO hosts (hostname, tags, agent, first_seen_ms, last_seen_ms, push_interval_ms, samples, first_ns, last_ns)
        VALUES (@hostname, @tags, @agent, @seen, @seen, @interval, @added, @firstNs, @lastNs)
        ON CONFLICT (hostname) DO UPDATE SET
          tags = coalesce(@tagsGiven, tags), agent = coalesce(@agentGiven, agent), last_seen_ms = @seen,
          push_interval_ms = coalesce(@interval, push_interval_ms), samples = samples + @added,
          first_ns = min(coalesce(first_ns, @firstNs), coalesce(@firstNs, first_ns)),
          last_ns = max(coalesce(last_ns, @lastNs), coalesce(@lastNs, last_ns))`),
      expiredByHost: prep('SELECT hostname, count(*) AS chunks, sum(count) AS samples FROM chunks WHERE last_ns < ? GROUP BY hostname'),
      expire: prep('DELETE FROM chunks WHERE last_ns < ?'),
      // A host whose chunks all went is kept (its tags, when last seen) with 0 samples.
      recount: prep(`UPDATE hosts SET samples = max(0, samples - ?),
        first_ns = (SELECT min(first_ns) FROM chunks WHERE hostname = hosts.hostname),
        last_ns = (SELECT max(last_ns) FROM chunks WHERE hostname = hosts.hostname) WHERE hostname = ?`),
    };
  }

  private hostLayouts(host: string): HostLayouts {
    let h = this.layouts.get(host);
    if (!h) {
      const stored = (this.st.layouts.all(host) as { layout: string }[]).map((r) => layoutFromJson(r.layout));
      h = { registry: new LayoutRegistry(stored), cache: new LayoutCache(), theirs: new WeakMap() };
      h.cache.add(stored.map((s) => s.layout));
      this.layouts.set(host, h);
    }
    return h;
  }

  private blobOf(row: ChunkRow): Buffer {
    return Number(row.codec) === CODEC_DEFLATE ? inflateRawSync(row.data) : row.data;
  }

  private batchOf(row: ChunkRow): NativeBatch {
    return binding().decodeSampleBlob(this.blobOf(row));
  }

  /** `blobOf` for reads: closed chunks through the cache. */
  private readBlob(row: ChunkRow): Buffer {
    if (Number(row.closed) === 0) return this.blobOf(row);
    const b = this.cache.get(row.id);
    if (b) return b.blob;
    const blob = this.blobOf(row);
    this.cache.set(row.id, { blob, bytes: blob.length + 256 });
    return blob;
  }

  put(host: string, dicts: readonly SampleDict[], meta: PushMeta): PutResult {
    return this.transaction(host, () => this.putInTransaction(host, dicts.map(wallNsOf), meta, (kept) => this.columnsOfDicts(host, kept.map((i) => dicts[i]))));
  }

  putColumns(host: string, batch: ColumnBatch, meta: PushMeta): PutResult {
    return this.transaction(host, () => this.putInTransaction(host, Array.from(batch.columns.wallNs), meta, (kept) => this.ourColumns(host, batch, kept)));
  }

  private transaction(host: string, f: () => PutResult): PutResult {
    try {
      return this.db.transaction(f)();
    } catch (e) {
      // Layouts the registry took in may not be stored: read them again next time.
      this.layouts.delete(host);
      this.openChunks.delete(host);
      throw e;
    }
  }

  /** New layouts of the host stored (in the push's transaction) and known for reads. */
  private storeLayouts(host: string, h: HostLayouts, added: readonly StoredLayout[]): void {
    for (const s of added) this.st.insertLayout.run(host, s.layout.id, layoutJson(s));
    h.cache.add(added.map((s) => s.layout));
  }

  private columnsOfDicts(host: string, dicts: SampleDict[]): Columns {
    const h = this.hostLayouts(host);
    const { columns, added } = toColumns(dicts, h.registry);
    this.storeLayouts(host, h, added);
    return columns;
  }

  /** The samples `kept` of a column batch, with the host's layout ids for the sender's. */
  private ourColumns(host: string, batch: ColumnBatch, kept: number[]): Columns {
    const h = this.hostLayouts(host);
    const byId = new Map(batch.layouts.map((s) => [s.layout.id, s]));
    const ours = new Map<number, number>();
    const added: StoredLayout[] = [];
    const c = kept.length === count(batch.columns) ? batch.columns : pick(batch.columns, kept);
    const layoutIds = new Uint32Array(c.layoutIds.length);
    for (let i = 0; i < layoutIds.length; i++) {
      const theirs = c.layoutIds[i];
      let id = ours.get(theirs);
      if (id === undefined) {
        const s = byId.get(theirs);
        if (!s) throw new Error(`putColumns: sample ${i} has layout ${theirs}, which the batch does not give`);
        let mine = h.theirs.get(s);
        if (!mine) {
          const r = h.registry.add(s);
          if (r.isNew) added.push(r.stored);
          h.theirs.set(s, (mine = r.stored));
        }
        ours.set(theirs, (id = mine.layout.id));
      }
      layoutIds[i] = id;
    }
    this.storeLayouts(host, h, added);
    return { ...c, layoutIds };
  }

  private putInTransaction(host: string, walls: bigint[], meta: PushMeta, columnsOf: (kept: number[]) => Columns): PutResult {
    const accepted: number[] = [];
    let duplicates = 0;
    const decoded = new Map<bigint, NativeBatch>();
    if (walls.length > 0) {
      let lo = walls[0];
      let hi = walls[0];
      for (const w of walls) {
        if (w < lo) lo = w;
        if (w > hi) hi = w;
      }
      const seen = new Set<bigint>();
      for (const row of this.st.overlapping.all(host, lo, hi) as ChunkRow[]) {
        const batch = this.batchOf(row);
        decoded.set(row.id, batch);
        for (const w of batch.wallNs) seen.add(w);
      }
      walls.forEach((w, i) => {
        if (seen.has(w)) duplicates++;
        else {
          seen.add(w);
          accepted.push(i);
        }
      });
    }
    if (accepted.length > 0) this.append(host, columnsOf(accepted), decoded);
    this.upsertHost(host, meta, accepted.map((i) => walls[i]), medianGapMs(walls));
    return { accepted: accepted.length, duplicates };
  }

  /** The host's open chunk (row `open`): the cached one if it is still the row's, else read from it. */
  private openChunk(host: string, open: { id: bigint; count: bigint }, decoded: Map<bigint, NativeBatch>): { chunk: OpenChunk; columns?: Columns } {
    const cached = this.openChunks.get(host);
    if (cached && cached.id === open.id && cached.count === Number(open.count)) return { chunk: cached };
    const row = this.st.open.get(host) as ChunkRow;
    const blob = Number(row.codec) === CODEC_DEFLATE ? inflateRawSync(row.data) : row.data;
    const columns = columnsOf(decoded.get(open.id) ?? binding().decodeSampleBlob(blob));
    const chunk = openChunkOf(open.id, blob, count(columns), one(columns, count(columns) - 1));
    return { chunk, columns };
  }

  /** Add new samples (as columns, the host's layout ids) to the host's open chunk, closing it (and opening more) at 128. */
  private append(host: string, columns: Columns, decoded: Map<bigint, NativeBatch>): void {
    const open = this.st.openMeta.get(host) as { id: bigint; count: bigint } | undefined;
    const k = count(columns);
    let openColumns: Columns | undefined;
    if (open) {
      const { chunk, columns: read } = this.openChunk(host, open, decoded);
      // The usual push: later samples, in order, that fit the chunk: appended to its bytes.
      if (chunk.count + k <= CHUNK_SAMPLES && columns.wallNs[0] > chunk.last.wallNs[0] && inOrder(columns)) {
        const blob = appended(chunk, columns);
        const n = chunk.count + k;
        const closed = n === CHUNK_SAMPLES;
        const [codec, data] = closed ? [CODEC_DEFLATE, deflateRawSync(blob)] : [CODEC_RAW, blob];
        this.st.appendChunk.run(columns.wallNs[k - 1], n, closed ? 1 : 0, codec, data, open.id);
        if (closed) this.openChunks.delete(host);
        else this.openChunks.set(host, openChunkOf(open.id, blob, n, one(columns, k - 1)));
        return;
      }
      openColumns = read ?? columnsOf(binding().decodeSampleBlob(chunk.blob));
    }
    const merged = openColumns ? concat(openColumns, columns) : columns;
    // Samples usually arrive in order: then nothing is copied.
    const all = inOrder(merged) ? merged : pick(merged, timeOrder(merged));
    const enc = binding();
    for (let from = 0; from < count(all); from += CHUNK_SAMPLES) {
      const idx = Array.from({ length: Math.min(CHUNK_SAMPLES, count(all) - from) }, (_, j) => from + j);
      const part = idx.length === count(all) ? all : pick(all, idx);
      const blob = enc.encodeSampleBlob(part);
      const closed = idx.length === CHUNK_SAMPLES;
      const [codec, data] = closed ? [CODEC_DEFLATE, deflateRawSync(blob)] : [CODEC_RAW, blob];
      const first = part.wallNs[0];
      const last = part.wallNs[idx.length - 1];
      let id = open?.id;
      if (from === 0 && open) this.st.updateChunk.run(first, last, idx.length, closed ? 1 : 0, codec, data, open.id);
      else id = BigInt(this.st.insertChunk.run(host, first, last, idx.length, closed ? 1 : 0, codec, data).lastInsertRowid);
      if (closed) this.openChunks.delete(host);
      else this.openChunks.set(host, openChunkOf(id!, blob, idx.length, one(part, idx.length - 1)));
    }
  }

  /** `walls`: the samples stored; `spacing`: the median gap between the push's samples (ms). */
  private upsertHost(host: string, meta: PushMeta, walls: bigint[], spacing: number | undefined): void {
    const prev = this.st.host.get(host) as HostRow | undefined;
    let firstNs: bigint | null = null;
    let lastNs: bigint | null = null;
    for (const w of walls) {
      if (firstNs === null || w < firstNs) firstNs = w;
      if (lastNs === null || w > lastNs) lastNs = w;
    }
    // The time between pushes: since the previous push, or if longer the samples' spacing or how
    // far the host's newest sample moved on (at most the interval known: a clock stepped forward
    // does not make it longer). A queue delivered in a burst after an outage (a push a sample at
    // --push-interval 10, a few ms apart) or a retry is not a faster agent: taken as one, the
    // host showed offline until its next push.
    // A gap across a restart of the server is the server's outage, not the agent's interval: the
    // stored interval stays (null keeps it).
    const gap = prev && Number(prev.last_seen_ms) >= this.openedMs ? meta.receivedMs - Number(prev.last_seen_ms) : undefined;
    const moved = prev?.last_ns != null && lastNs !== null && lastNs > prev.last_ns ? Number(lastNs - prev.last_ns) / 1e6 : 0;
    const advance = prev?.push_interval_ms != null ? Math.min(moved, Number(prev.push_interval_ms)) : moved;
    let interval: number | null = null;
    if (gap !== undefined) interval = Math.max(1000, Math.round(Math.max(gap, spacing ?? 0, advance)));
    else if (!prev && spacing !== undefined) interval = Math.max(1000, Math.round(spacing));
    const tags = meta.tags ? JSON.stringify(meta.tags) : null;
    this.st.upsertHost.run({
      hostname: host, tags: tags ?? '{}', tagsGiven: tags, agent: meta.agent ?? null, agentGiven: meta.agent ?? null,
      seen: meta.receivedMs, interval, added: walls.length, firstNs, lastNs,
    });
  }

  private record(r: HostRow): HostRecord {
    const last = this.st.lastLayout.get(r.hostname) as { layout: string } | undefined;
    const layout = last ? layoutFromJson(last.layout).layout : undefined;
    return {
      disks: layout?.disks ?? [],
      interfaces: layout?.net ?? [],
      hostname: r.hostname,
      tags: JSON.parse(r.tags) as Record<string, string>,
      agent: r.agent,
      firstSeenMs: Number(r.first_seen_ms),
      lastSeenMs: Number(r.last_seen_ms),
      pushIntervalMs: r.push_interval_ms === null ? null : Number(r.push_interval_ms),
      samples: Number(r.samples),
      firstNs: r.first_ns,
      lastNs: r.last_ns,
    };
  }

  hosts(): HostRecord[] {
    return (this.st.hosts.all() as HostRow[]).map((r) => this.record(r));
  }

  host(hostname: string): HostRecord | undefined {
    const r = this.st.host.get(hostname) as HostRow | undefined;
    return r && this.record(r);
  }

  window(host: string, fromNs: bigint, toNs: bigint, only?: SectionFilter): SampleDict[] {
    const rows = this.st.overlapping.all(host, fromNs, toNs) as ChunkRow[];
    if (rows.length === 0) return [];
    const h = this.hostLayouts(host);
    const out: { wall: bigint; d: SampleDict }[] = [];
    for (const row of rows) {
      const batch = binding().decodeSampleBlob(this.readBlob(row));
      const { samples } = decodeBatch(batch, '', h.cache, only);
      samples.forEach((s, i) => {
        const wall = batch.wallNs[i];
        if (wall < fromNs || wall > toNs) return;
        // The hostname and whether the sample had timestamp_ns are the layout's.
        const stored = h.registry.get(batch.layoutIds[i]);
        s.hostname = stored.hostname;
        if (!stored.ns) delete s.timestamp_ns;
        out.push({ wall, d: s });
      });
    }
    // Chunks may overlap (a late sample joins the open chunk): one sort over all.
    return out.sort((a, b) => (a.wall < b.wall ? -1 : a.wall > b.wall ? 1 : 0)).map((x) => x.d);
  }

  points(host: string, fromNs: bigint, toNs: bigint, path: string): Points {
    const t = this.table(host, fromNs, toNs, [path]);
    const timesNs: number[] = [];
    const values: number[] = [];
    const col = t.columns[0];
    for (let i = 0; i < t.timesNs.length; i++) {
      if (Number.isNaN(col[i])) continue;
      timesNs.push(t.timesNs[i]);
      values.push(col[i]);
    }
    return { timesNs, values };
  }

  table(host: string, fromNs: bigint, toNs: bigint, paths: readonly string[]): Table {
    const rows = this.st.overlappingIds.all(host, fromNs, toNs) as Pick<ChunkRow, 'id' | 'closed'>[];
    if (rows.length === 0) return { timesNs: [], columns: paths.map(() => new Float64Array(0)) };
    // A chunk's bytes are read only where neither its picks nor its blob are kept.
    const chunks = rows.map(({ id, closed }) => {
      const open = Number(closed) === 0;
      return { id: open ? undefined : id, blob: () => (!open && this.cache.get(id)?.blob) || this.readBlob(this.st.chunkData.get(id) as ChunkRow) };
    });
    return tableOf(chunks, this.hostLayouts(host).cache, fromNs, toNs, paths, this.picks);
  }

  expire(beforeNs: bigint): ExpireResult {
    return this.db.transaction(() => {
      const gone = this.st.expiredByHost.all(beforeNs) as { hostname: string; chunks: bigint; samples: bigint }[];
      if (gone.length === 0) return { chunks: 0, samples: 0 };
      this.st.expire.run(beforeNs);
      // Row ids of deleted chunks may be given again; an open chunk may have gone.
      this.cache.clear();
      this.picks.clear();
      this.openChunks.clear();
      let chunks = 0;
      let samples = 0;
      for (const g of gone) {
        this.st.recount.run(g.samples, g.hostname);
        chunks += Number(g.chunks);
        samples += Number(g.samples);
      }
      return { chunks, samples };
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
