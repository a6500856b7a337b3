/**
 * The compact push body (application/vnd.hostseries.blob: layouts + the core's sample blob), on a
 * real server (in process, real HTTP on 127.0.0.1, real SQLite): it stores exactly what the same
 * samples pushed as JSON Lines store; a sample pushed either way is one sample (duplicates);
 * values JSON would reject are rejected per sample with the field named; corrupt bodies (cut,
 * bytes flipped, lying layouts) are each a 400 naming what is wrong, never a 500, and the server
 * goes on; a body decoding to too many values is a 413; a store without `putColumns` gets dicts;
 * a token bound to a host may not write another. PushSink pushes the compact body, falls back to
 * JSON Lines for a server that reads every body as JSON, and delivers a queue of JSON lines left
 * by an earlier run.
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PushSink, stringifyJson, TimeSeriesCollector, TimeSeriesSample } from '../lib/index.js';
import { binding } from '../lib/native/binding.js';
import { isoSeconds } from '../lib/native/decode.js';
import { layoutJson, LayoutRegistry, toColumns, type Columns, type StoredLayout } from '../lib/native/encode.js';
import { BLOB_CONTENT_TYPE, encodeBlobBody } from '../lib/push/blob-body.js';
import { Tokens } from '../lib/serve/auth.js';
import { startServer, type RunningServer } from '../lib/serve/server.js';
import { SqliteStore } from '../lib/serve/store/sqlite.js';
import type { SampleStore } from '../lib/serve/store/store.js';
import type { SampleDict } from '../lib/types/sample.js';

const TOKEN = 'blob-test-token-0123456789';
const H1_TOKEN = 'blob-h1-only-token-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ALL = [0n, 2n ** 63n - 1n] as const;

let dir = '';
let real: SampleDict[] = [];
const running: RunningServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostseries-serve-blob-'));
  const c = new TimeSeriesCollector({ intervalSeconds: 0.03, watch: ['self'] });
  await c.start();
  c.count('steps', 2);
  c.gauge('loss', 0.25);
  await sleep(900);
  real = (await c.stop()).map((s) => s.toDict());
}, 30_000);

afterAll(async () => {
  for (const s of running) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve<S extends SampleStore = SqliteStore>(name: string, o: { store?: S; maxInflated?: number } = {}): Promise<{ url: string; store: S }> {
  const store = o.store ?? (new SqliteStore(join(dir, name)) as SampleStore as S);
  const tokens = new Tokens().add(TOKEN, 'test').add(H1_TOKEN, 'test', ['h1']);
  const s = await startServer({ store, host: '127.0.0.1', port: 0, tokens, limits: o.maxInflated ? { maxInflated: o.maxInflated } : undefined });
  running.push(s);
  return { url: s.url, store };
}

interface Reply {
  status: number;
  body: { accepted?: number; duplicates?: number; rejected?: { index: number; path: string; reason: string }[]; error?: string };
}

async function post(url: string, body: Buffer | string, type = BLOB_CONTENT_TYPE, extra: Record<string, string> = {}, token = TOKEN): Promise<Reply> {
  const r = await fetch(`${url}/api/v1/samples`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': type, ...extra } });
  return { status: r.status, body: (await r.json()) as Reply['body'] };
}

/** `n` samples of `host` a second apart (real values cycled), with and without timestamp_ns. */
function samples(host: string, n: number, startMs: number, ns = true): SampleDict[] {
  return Array.from({ length: n }, (_, i) => {
    const d: SampleDict = { ...real[i % real.length], hostname: host, timestamp: isoSeconds(startMs + i * 1000) };
    if (ns) d.timestamp_ns = (startMs + i * 1000) * 1e6 + 123_456;
    else delete d.timestamp_ns;
    return d;
  });
}

const body = (dicts: readonly SampleDict[]): Buffer => encodeBlobBody(dicts, new LayoutRegistry(), new Map());

/** A body from columns and layouts as given (to say what a client other than ours might). */
function rawBody(columns: Columns, layouts: readonly StoredLayout[] | string): Buffer {
  const text = Buffer.from(typeof layouts === 'string' ? layouts : `[${layouts.map(layoutJson).join(',')}]`);
  const head = Buffer.alloc(8);
  head.write('HSPB', 'latin1');
  head.writeUInt32LE(text.length, 4);
  return Buffer.concat([head, text, binding().encodeSampleBlob(columns)]);
}

function columnsOf(dicts: readonly SampleDict[]): { columns: Columns; layouts: StoredLayout[]; registry: LayoutRegistry } {
  const registry = new LayoutRegistry();
  const { columns } = toColumns(dicts, registry);
  return { columns, layouts: Array.from({ length: registry.size }, (_, i) => registry.get(i)), registry };
}

const window = (store: SqliteStore, host: string): string => stringifyJson(store.window(host, ...ALL));

describe('the compact push body', () => {
  it('stores exactly what JSON Lines store (two hosts in one push, errors, collectors, no timestamp_ns); either way a sample is stored once', async () => {
    const t0 = Date.UTC(2026, 1, 1);
    const dicts = [...samples('h1', 40, t0), ...samples('h2', 25, t0), ...samples('h3', 5, t0, false)];
    dicts[3] = { ...dicts[3], errors: { diskstats: 'read failed', 'net dev': 'é' } };
    dicts[7] = { ...dicts[7], collectors: { gpu: { util: 3, name: 'x' } } };
    const a = await serve('equal-blob');
    const b = await serve('equal-json');
    for (let i = 0; i < dicts.length; i += 10) {
      const part = dicts.slice(i, i + 10);
      const r = await post(a.url, gzipSync(body(part)), BLOB_CONTENT_TYPE, { 'content-encoding': 'gzip' });
      expect(r).toEqual({ status: 200, body: { accepted: part.length, duplicates: 0, rejected: [] } });
      const j = await post(b.url, part.map((d) => stringifyJson(d)).join('\n'), 'application/x-ndjson');
      expect(j.body.accepted).toBe(part.length);
    }
    for (const h of ['h1', 'h2', 'h3']) {
      expect(window(a.store, h)).toBe(window(b.store, h));
      expect(a.store.host(h)?.samples).toBe(b.store.host(h)?.samples);
    }
    // The stored samples are those pushed (checked as the JSON path checks them).
    expect(stringifyJson(a.store.window('h1', ...ALL))).toBe(stringifyJson(dicts.slice(0, 40).map((d) => TimeSeriesSample.fromDict(d).toDict())));
    // Again, as blob and as JSON: all duplicates.
    expect((await post(a.url, body(dicts.slice(0, 40)))).body).toMatchObject({ accepted: 0, duplicates: 40 });
    expect((await post(a.url, dicts.slice(0, 40).map((d) => stringifyJson(d)).join('\n'), 'application/x-ndjson')).body).toMatchObject({ accepted: 0, duplicates: 40 });
    expect((await post(b.url, body(dicts.slice(40, 65)))).body).toMatchObject({ accepted: 0, duplicates: 25 });
  });

  it('rejects per sample what JSON would (loadavg not finite or < 0, an app gauge NaN, a time out of range or not a whole second), the field named; the rest stored', async () => {
    const dicts = samples('h1', 8, Date.UTC(2026, 1, 2));
    const { columns, layouts } = columnsOf(dicts);
    const floats = new Float64Array(columns.values.buffer);
    // loadavg's first value in the layout: after diskstats, vmstat, meminfo.
    const l = layouts[columns.layoutIds[0]].layout;
    const loadAt = l.diskFields.reduce((x, y) => x + y, 0) + l.vmstat.length + l.meminfo.length;
    floats[columns.offsets[1] + loadAt] = NaN;
    floats[columns.offsets[2] + loadAt + 1] = -1;
    columns.wallNs[4] = 2n ** 63n;
    const s = await serve('reject');
    const r = await post(s.url, rawBody(columns, layouts));
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(5);
    expect(r.body.rejected).toEqual([
      { index: 1, path: 'loadavg.load_1min', reason: 'expected a non-negative number, got NaN' },
      { index: 2, path: 'loadavg.load_5min', reason: 'expected a non-negative number, got -1' },
      { index: 4, path: 'timestamp_ns', reason: `out of range (${2n ** 63n})` },
    ]);
    // Without timestamp_ns, a time that is not a whole second would not read back as pushed.
    const whole = columnsOf(samples('h1', 3, Date.UTC(2026, 1, 3), false));
    whole.columns.wallNs[1] += 5n;
    const w = await post(s.url, rawBody(whole.columns, whole.layouts));
    expect(w.body.rejected).toEqual([{ index: 1, path: 'timestamp', reason: expect.stringContaining('whole second') as string }]);
    // An app gauge NaN.
    const app = columnsOf(samples('h1', 2, Date.UTC(2026, 1, 4)).map((d) => ({ ...d, app: { loss: 0.5 } })));
    new Float64Array(app.columns.values.buffer)[app.columns.offsets[2] - 1] = NaN;
    expect((await post(s.url, rawBody(app.columns, app.layouts))).body.rejected).toEqual([{ index: 1, path: 'app.loss', reason: expect.stringContaining('NaN') as string }]);
  });

  it('corrupt bodies: each a 400 naming what is wrong (or per-sample reasons), never a 500; the server goes on', async () => {
    const s = await serve('corrupt');
    const dicts = samples('h1', 6, Date.UTC(2026, 1, 5));
    const good = body(dicts);
    const { columns, layouts } = columnsOf(dicts);
    const expect400 = async (b: Buffer | string, what: RegExp): Promise<void> => {
      const r = await post(s.url, b);
      expect(r.status, what.source).toBe(400);
      expect(r.body.error).toMatch(what);
    };
    await expect400('', /starts with "HSPB"/);
    await expect400('[{"timestamp": 1}]', /HSPB/);
    await expect400(Buffer.concat([Buffer.from('HSPB'), Buffer.from([255, 255, 0, 0])]), /layouts are said to be 65535 bytes/);
    await expect400(rawBody(columns, '{"not": "a list"}'), /layouts: expected an array/);
    await expect400(rawBody(columns, '[{"layout": {"id": 0}, "hostname": "h1", "ns": true}]'), /layouts\[0\]\.layout\.sections: required field is missing/);
    await expect400(rawBody(columns, 'not json'), /layouts: not valid JSON/);
    // A layout that lies: sections in another order, a disk renamed, too few values.
    // (The samples may have more than one layout: the first is changed, the others given as they are.)
    const first = (l: StoredLayout['layout']): StoredLayout[] => [{ ...layouts[0], layout: l }, ...layouts.slice(1)];
    await expect400(rawBody(columns, first({ ...layouts[0].layout, sections: [...layouts[0].layout.sections].reverse() })), /layout 0 is not the layout of its samples/);
    await expect400(rawBody(columns, first({ ...layouts[0].layout, vmstat: layouts[0].layout.vmstat.slice(1) })), /sample 0 has \d+ values; its layout 0 has \d+/);
    await expect400(rawBody(columns, first({ ...layouts[0].layout, id: 7 })), /sample 0 has layout 0, which the body's layouts do not give/);
    await expect400(rawBody(columns, [...layouts, layouts[0]]), /layout id 0 is given twice/);
    // Cut anywhere, or bytes flipped (seeded): never a 500.
    const statuses = new Set<number>();
    for (let cut = 8; cut < good.length; cut += Math.max(1, Math.floor(good.length / 60))) statuses.add((await post(s.url, good.subarray(0, cut))).status);
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 80; k++) {
      const bad = Buffer.from(good);
      for (let f = 0; f < 3; f++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      const r = await post(s.url, bad);
      statuses.add(r.status);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
    }
    expect([...statuses].every((x) => x === 200 || x === 400 || x === 403)).toBe(true);
    expect(statuses.has(400)).toBe(true);
    // Still answering, and a good body still stored.
    expect((await post(s.url, good)).body.accepted).toBeGreaterThanOrEqual(0);
    expect((await fetch(`${s.url}/api/v1/hosts`)).status).toBe(200);
  });

  it('a body decoding to more values than the inflated limit allows (/ 8) is a 413; so is a gzip bomb', async () => {
    const s = await serve('limits', { maxInflated: 64 * 1024 });
    const dicts = samples('h1', 20, Date.UTC(2026, 1, 6));
    const b = body(dicts);
    expect(b.length).toBeLessThan(64 * 1024);
    const r = await post(s.url, b);
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/more than 8192 values/);
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect((await post(s.url, bomb, BLOB_CONTENT_TYPE, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(s.url, body(dicts.slice(0, 2)))).body.accepted).toBe(2);
  });

  it('a store without putColumns (answering later, as a remote one does) gets the samples as dicts through put; a host-bound token may not write another host (403, nothing stored)', async () => {
    const inner = new SqliteStore(join(dir, 'plain'));
    const later = async <T>(v: T): Promise<T> => {
      await new Promise((r) => setTimeout(r, 1));
      return v;
    };
    const plain: SampleStore = {
      put: (h, d, m) => later(inner.put(h, d, m)), hosts: () => later(inner.hosts()), host: (h) => later(inner.host(h)),
      window: (h, f, t, o) => later(inner.window(h, f, t, o)), points: (h, f, t, p) => later(inner.points(h, f, t, p)),
      table: (h, f, t, p) => later(inner.table(h, f, t, p)), expire: (b) => later(inner.expire(b)), close: () => inner.close(),
    };
    const s = await serve('plain', { store: plain });
    const dicts = samples('h1', 12, Date.UTC(2026, 1, 7));
    expect((await post(s.url, body(dicts))).body).toEqual({ accepted: 12, duplicates: 0, rejected: [] });
    expect(window(inner, 'h1')).toBe(stringifyJson(dicts.map((d) => TimeSeriesSample.fromDict(d).toDict())));
    const other = samples('h2', 2, Date.UTC(2026, 1, 7));
    const r = await post(s.url, body([...dicts.slice(0, 1), ...other]), BLOB_CONTENT_TYPE, {}, H1_TOKEN);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/may not write host "h2"/);
    expect(await plain.host('h2')).toBeUndefined();
  });
});

describe('the store, fed columns', () => {
  it('open chunks grown by appending bytes are byte for byte the whole encoding of their samples; put and putColumns store the same', () => {
    const dicts = samples('h1', 700, Date.UTC(2026, 1, 9));
    dicts[130] = { ...dicts[130], errors: { vmstat: 'gone' } };
    const a = new SqliteStore(join(dir, 'append-a'));
    const b = new SqliteStore(join(dir, 'append-b'));
    const registry = new LayoutRegistry();
    let seed = 5;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < dicts.length;) {
      // Mostly in order, now and then a push that goes back (the whole chunk is encoded again then).
      const n = 1 + Math.floor(rand() * 40);
      let part = dicts.slice(i, i + n);
      if (rand() < 0.1 && i > 50) part = [...part, dicts[i - 1 - Math.floor(rand() * 50)]];
      const { columns } = toColumns(part, registry);
      const layouts = [...new Set(columns.layoutIds)].map((id) => registry.get(id));
      const ra = a.putColumns('h1', { columns, layouts }, { receivedMs: Date.now() });
      const rb = b.put('h1', part, { receivedMs: Date.now() });
      expect(ra).toEqual(rb);
      i += n;
    }
    expect(window(a, 'h1')).toBe(window(b, 'h1'));
    expect(window(a, 'h1')).toBe(stringifyJson(dicts.map((d) => TimeSeriesSample.fromDict(d).toDict())));
    a.close();
    b.close();
    const db = new Database(join(dir, 'append-a', 'hostseries.db'), { readonly: true });
    const rows = db.prepare('SELECT closed, codec, data FROM chunks').all() as { closed: number; codec: number; data: Buffer }[];
    db.close();
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) {
      const blob = r.codec === 1 ? inflateRawSync(r.data) : r.data;
      const back = binding().decodeSampleBlob(blob);
      const whole = binding().encodeSampleBlob({ layoutIds: back.layoutIds, wallNs: back.wallNs, offsets: back.offsets, values: back.values, errors: back.errors, extras: back.extras });
      expect(Buffer.compare(whole, blob)).toBe(0);
    }
  });
});

/** A proxy that hands serve every body as JSON Lines, as a server before the compact body did. */
async function oldServerProxy(target: string): Promise<{ url: string; server: HttpServer; blobs: () => number }> {
  let blobs = 0;
  const t = new URL(target);
  const server = createServer((req, res) => {
    if (req.headers['content-type'] === BLOB_CONTENT_TYPE) blobs++;
    const out = request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: { ...req.headers, 'content-type': 'application/x-ndjson' } }, (r: IncomingMessage) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, blobs: () => blobs };
}

describe('PushSink and the compact body', () => {
  it('pushes the compact body; a server that reads it as JSON gets JSON Lines instead, said once; a queue of JSON lines from an earlier run is delivered', async () => {
    const s = await serve('sink');
    const counting = s.store;
    let columnPuts = 0;
    const putColumns = counting.putColumns.bind(counting);
    counting.putColumns = (...a) => {
      columnPuts++;
      return putColumns(...a);
    };
    // Within the queue's age bound (a day).
    const recent = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) };
    const dicts = samples('sink-a', 30, recent);
    const sink = new PushSink({ server: s.url, token: TOKEN, logger, queueDir: join(dir, 'q-a') });
    await sink.open();
    for (const d of dicts) sink.write(TimeSeriesSample.fromDict(d));
    await sink.deliver(10_000);
    await sink.close();
    expect(columnPuts).toBeGreaterThan(0);
    expect(window(s.store, 'sink-a')).toBe(stringifyJson(dicts.map((d) => TimeSeriesSample.fromDict(d).toDict())));
    expect(warnings).toEqual([]);

    // An older server: the body is read as JSON (400), the batch goes again as JSON Lines.
    const proxy = await oldServerProxy(s.url);
    try {
      const old = new PushSink({ server: proxy.url, token: TOKEN, logger, queueDir: join(dir, 'q-b') });
      await old.open();
      const more = samples('sink-b', 12, recent);
      for (const d of more.slice(0, 6)) old.write(TimeSeriesSample.fromDict(d));
      await old.deliver(10_000);
      for (const d of more.slice(6)) old.write(TimeSeriesSample.fromDict(d));
      await old.deliver(10_000);
      await old.close();
      expect(proxy.blobs()).toBe(1);
      expect(warnings.filter((w) => w.includes('did not take the compact body'))).toHaveLength(1);
      expect(window(s.store, 'sink-b')).toBe(stringifyJson(more.map((d) => TimeSeriesSample.fromDict(d).toDict())));
    } finally {
      proxy.server.close();
    }

    // A queue left by an earlier run (JSON lines, as every version wrote it): delivered (as JSON
    // Lines: lines read back cost the agent less so); then new samples go compact again.
    const q = join(dir, 'q-c');
    mkdirSync(q, { recursive: true });
    const left = samples('sink-c', 9, recent);
    writeFileSync(join(q, '0000000000000001.jsonl'), left.map((d) => stringifyJson(d) + '\n').join(''));
    const before = columnPuts;
    const later = new PushSink({ server: s.url, token: TOKEN, logger, queueDir: q });
    await later.open();
    await later.deliver(10_000);
    expect(columnPuts).toBe(before);
    const after = samples('sink-c', 18, recent).slice(9);
    for (const d of after) later.write(TimeSeriesSample.fromDict(d));
    await later.deliver(10_000);
    await later.close();
    expect(columnPuts).toBe(before + 1);
    left.push(...after);
    expect(window(s.store, 'sink-c')).toBe(stringifyJson(left.map((d) => TimeSeriesSample.fromDict(d).toDict())));
  });
});
