/**
 * The embedded store: one SQLite file (WAL) holding, per host, its samples as chunks of up to 128
 * in the core's compact encoding (`encodeSampleBlob`: a keyframe, then changed-value bitmaps and
 * varint deltas; a closed chunk deflated too), its layouts (the shape of its samples, kept once),
 * and what the host said of itself.
 *
 * A host's open chunk grows with each push (its row rewritten in the push's transaction) and is
 * closed at 128 samples. A push is one transaction; it returns once committed, and with WAL a
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
import { LayoutRegistry, toColumns, type Columns, type StoredLayout } from '../../native/encode.js';
import type { SampleDict } from '../../types/sample.js';
import { ChunkCache } from './chunk-cache.js';
import { columnsOf, concat, count, inOrder, pick, timeOrder } from './columns.js';
import { tableOf } from './table.js';
import { wallNsOf, type ExpireResult, type HostRecord, type Points, type PushMeta, type PutResult, type SampleStore, type Table } from './store.js';

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
  /** Bytes of decoded closed chunks kept for reads (0: none). */
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

/** A host's open chunk as columns, and its row. */
type OpenChunk = Columns & { id: bigint };

/** A host's layouts: by shape (to encode) and by id (to decode). */
interface HostLayouts {
  registry: LayoutRegistry;
  cache: LayoutCache;
}

// A layout's processes carry their start time as a bigint; JSON keeps it as a string.
function layoutJson(s: StoredLayout): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
function layoutFromJson(text: string): StoredLayout {
  return JSON.parse(text, (k, v: unknown) => (k === 'startTimeNs' && typeof v === 'string' ? BigInt(v) : v)) as StoredLayout;
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
  private readonly cache: ChunkCache<bigint, NativeBatch>;
  /**
   * Each host's open chunk as columns, so a push grows it without decoding it (measured: the
   * decode was ~35 µs of a pushed sample's ~150 µs in store.put, pushes of 10). Checked against
   * the row (id and count) before use; dropped when a push fails.
   */
  private readonly openChunks: ChunkCache<string, OpenChunk>;
  /** When this store was opened (ms): gaps between pushes are measured from then on. */
  private readonly openedMs = Date.now();

  constructor(dir: string, options: SqliteStoreOptions = {}) {
    this.cache = new ChunkCache(options.cacheBytes);
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
      open: prep('SELECT id, first_ns, last_ns, count, closed, codec, data FROM chunks WHERE hostname = ? AND closed = 0'),
      lastLayout: prep('SELECT layout FROM layouts WHERE hostname = ? ORDER BY id DESC LIMIT 1'),
      openMeta: prep('SELECT id, count FROM chunks WHERE hostname = ? AND closed = 0'),
      insertChunk: prep('INSERT INTO chunks (hostname, first_ns, last_ns, count, closed, codec, data) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateChunk: prep('UPDATE chunks SET first_ns = ?, last_ns = ?, count = ?, closed = ?, codec = ?, data = ? WHERE id = ?'),
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
      h = { registry: new LayoutRegistry(stored), cache: new LayoutCache() };
      h.cache.add(stored.map((s) => s.layout));
      this.layouts.set(host, h);
    }
    return h;
  }

  private batchOf(row: ChunkRow): NativeBatch {
    return binding().decodeSampleBlob(Number(row.codec) === CODEC_DEFLATE ? inflateRawSync(row.data) : row.data);
  }

  /** `batchOf` for reads: closed chunks through the cache. */
  private readBatch(row: ChunkRow): NativeBatch {
    if (Number(row.closed) === 0) return this.batchOf(row);
    let b = this.cache.get(row.id);
    if (!b) this.cache.set(row.id, (b = this.batchOf(row)));
    return b;
  }

  put(host: string, dicts: readonly SampleDict[], meta: PushMeta): PutResult {
    try {
      return this.db.transaction(() => this.putInTransaction(host, dicts, meta))();
    } catch (e) {
      // Layouts the registry took in may not be stored: read them again next time.
      this.layouts.delete(host);
      this.openChunks.delete(host);
      throw e;
    }
  }

  private putInTransaction(host: string, dicts: readonly SampleDict[], meta: PushMeta): PutResult {
    const walls = dicts.map(wallNsOf);
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
    if (accepted.length > 0) this.append(host, accepted.map((i) => dicts[i]), decoded);
    this.upsertHost(host, meta, accepted.map((i) => walls[i]), medianGapMs(walls));
    return { accepted: accepted.length, duplicates };
  }

  /** Add new samples to the host's open chunk, closing it (and opening more) at 128. */
  private append(host: string, dicts: SampleDict[], decoded: Map<bigint, NativeBatch>): void {
    const h = this.hostLayouts(host);
    const { columns, added } = toColumns(dicts, h.registry);
    for (const s of added) this.st.insertLayout.run(host, s.layout.id, layoutJson(s));
    h.cache.add(added.map((s) => s.layout));
    const open = this.st.openMeta.get(host) as { id: bigint; count: bigint } | undefined;
    let openColumns: Columns | undefined;
    if (open) {
      const cached = this.openChunks.get(host);
      if (cached && cached.id === open.id && count(cached) === Number(open.count)) openColumns = cached;
      else openColumns = columnsOf(decoded.get(open.id) ?? this.batchOf(this.st.open.get(host) as ChunkRow));
    }
    const merged = openColumns ? concat(openColumns, columns) : columns;
    // Samples usually arrive in order: then nothing is copied.
    const all = inOrder(merged) ? merged : pick(merged, timeOrder(merged));
    const enc = binding();
    for (let from = 0; from < count(all); from += CHUNK_SAMPLES) {
      const idx = Array.from({ length: Math.min(CHUNK_SAMPLES, count(all) - from) }, (_, k) => from + k);
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
      else this.openChunks.set(host, { ...part, id: id! });
    }
  }

  /** `walls`: the samples stored; `spacing`: the median gap between the push's samples (ms). */
  private upsertHost(host: string, meta: PushMeta, walls: bigint[], spacing: number | undefined): void {
    const prev = this.st.host.get(host) as HostRow | undefined;
    // The time between pushes: since the previous push, or the samples' spacing if longer (a
    // queue delivered in a burst, or a retry, is not a faster agent).
    // A gap across a restart of the server is the server's outage, not the agent's interval: the
    // stored interval stays (null keeps it).
    const gap = prev && Number(prev.last_seen_ms) >= this.openedMs ? meta.receivedMs - Number(prev.last_seen_ms) : undefined;
    let interval: number | null = null;
    if (gap !== undefined) interval = Math.max(1000, Math.round(Math.max(gap, spacing ?? 0)));
    else if (!prev && spacing !== undefined) interval = Math.max(1000, Math.round(spacing));
    let firstNs: bigint | null = null;
    let lastNs: bigint | null = null;
    for (const w of walls) {
      if (firstNs === null || w < firstNs) firstNs = w;
      if (lastNs === null || w > lastNs) lastNs = w;
    }
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
      const batch = this.readBatch(row);
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
    const rows = this.st.overlapping.all(host, fromNs, toNs) as ChunkRow[];
    if (rows.length === 0) return { timesNs: [], columns: paths.map(() => new Float64Array(0)) };
    return tableOf(rows.map((row) => this.readBatch(row)), this.hostLayouts(host).cache, fromNs, toNs, paths);
  }

  expire(beforeNs: bigint): ExpireResult {
    return this.db.transaction(() => {
      const gone = this.st.expiredByHost.all(beforeNs) as { hostname: string; chunks: bigint; samples: bigint }[];
      if (gone.length === 0) return { chunks: 0, samples: 0 };
      this.st.expire.run(beforeNs);
      // Row ids of deleted chunks may be given again; an open chunk may have gone.
      this.cache.clear();
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
