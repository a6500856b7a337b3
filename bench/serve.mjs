// `hostseries serve` benchmark (issue 14): bytes on disk per host-sample in the SQLite store
// (chunks of 128 in the core's delta encoding, closed chunks deflated), beside JSON Lines .gz of the
// same samples, and ingest: host-samples per second with 64 concurrent agents pushing gzipped
// bodies, the compact one (the agent's: application/vnd.hostseries.blob) and JSON Lines, rounds
// interleaved, per second of wall time and per second of the server's own CPU; and read: a one-hour
// /api/v1/series query of one host sampled at 1 s, through HTTP, the first (cold) and repeated.
// Run: node bench/serve.mjs [--quick] [--read: the read part alone]   (after `npm run build`)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, inflateRawSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { TimeSeriesCollector, TimeSeriesSample, stringifyJson } = require(join(here, '..', 'dist', 'index.js'));
const { LayoutRegistry, toColumns } = require(join(here, '..', 'dist', 'native', 'encode.js'));
const { BLOB_CONTENT_TYPE, encodeBlobBody } = require(join(here, '..', 'dist', 'push', 'blob-body.js'));
const { ingestBlob } = require(join(here, '..', 'dist', 'serve', 'ingest-blob.js'));
const { SqliteStore } = require(join(here, '..', 'dist', 'serve', 'store', 'sqlite.js'));
const { isoSeconds } = require(join(here, '..', 'dist', 'native', 'decode.js'));
const { pathPoints, buckets } = require(join(here, '..', 'dist', 'serve', 'query.js'));
const { series, sectionsOf } = require(join(here, '..', 'dist', 'collector', 'aggregate.js'));
const { binding } = require(join(here, '..', 'dist', 'native', 'binding.js'));
const Database = require('better-sqlite3');

const MAIN = join(here, '..', 'dist', 'cli', 'main.js');
const TOKEN = 'bench-token-0123456789abcdef';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function realSamples(count, interval) {
  const c = new TimeSeriesCollector({ intervalSeconds: interval });
  await c.start();
  while (c.sampleCount < count) await sleep(50);
  return (await c.stop()).slice(0, count).map((s) => s.toDict());
}

async function startServe(data, extra = []) {
  const child = spawn(process.execPath, [MAIN, 'serve', '--listen', '127.0.0.1:0', '--data', data, ...extra], {
    env: { ...process.env, HOSTSERIES_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (err += s));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 400; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) return { url: m[1], child, exited, stderr: () => err };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start: ${err}`);
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Where the server's time per sample goes, in this process (no HTTP): for JSON Lines, JSON.parse
 * of a line, the check (fromDict, toDict), dicts to columns (lib/native/encode.ts), and store.put
 * in pushes of `batch` (columns, the open chunk grown and encoded again, SQLite); for the compact
 * body, its making (the agent's side: toDict'd samples to a body), the whole of ingestBlob (checks
 * and putColumns), and putColumns alone. Median of 5 rounds, µs.
 */
async function stages(samples, batch, dir) {
  const lines = samples.map((d) => stringifyJson(d));
  const n = samples.length;
  const perSample = (f) => {
    const t = performance.now();
    f();
    return ((performance.now() - t) * 1000) / n;
  };
  const r = { parse: [], check: [], columns: [], put: [], blobMake: [], blobIngest: [], putColumns: [] };
  const meta = () => ({ receivedMs: Date.now() });
  for (let round = 0; round < 5; round++) {
    let parsed;
    let dicts;
    r.parse.push(perSample(() => (parsed = lines.map((l) => JSON.parse(l)))));
    r.check.push(perSample(() => (dicts = parsed.map((v) => TimeSeriesSample.fromDict(v).toDict()))));
    r.columns.push(perSample(() => {
      const reg = new LayoutRegistry();
      for (let i = 0; i < n; i += batch) toColumns(dicts.slice(i, i + batch), reg);
    }));
    const store = new SqliteStore(join(dir, `stages-${round}`));
    r.put.push(perSample(() => {
      for (let i = 0; i < n; i += batch) store.put('h', dicts.slice(i, i + batch), meta());
    }));
    store.close();
    const bodies = [];
    r.blobMake.push(perSample(() => {
      const reg = new LayoutRegistry();
      const texts = new Map();
      for (let i = 0; i < n; i += batch) bodies.push(encodeBlobBody(dicts.slice(i, i + batch), reg, texts));
    }));
    const blobStore = new SqliteStore(join(dir, `stages-blob-${round}`));
    const t = performance.now();
    for (const b of bodies) await ingestBlob(blobStore, b, { hosts: '*' }, meta(), 8 << 20);
    r.blobIngest.push(((performance.now() - t) * 1000) / n);
    blobStore.close();
    // putColumns alone: the columns and layouts of each body, as ingestBlob hands them over.
    const reg = new LayoutRegistry();
    const batches = [];
    for (let i = 0; i < n; i += batch) {
      const { columns } = toColumns(dicts.slice(i, i + batch), reg);
      batches.push({ columns, layouts: [...new Set(columns.layoutIds)].map((id) => reg.get(id)) });
    }
    const colStore = new SqliteStore(join(dir, `stages-columns-${round}`));
    r.putColumns.push(perSample(() => {
      for (const b of batches) colStore.putColumns('h', b, meta());
    }));
    colStore.close();
  }
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}

/** The hour's samples stored, in pushes of 10 (a function of its own: they are garbage once stored). */
function storeHour(samples, data, base) {
  const store = new SqliteStore(data);
  for (let i = 0; i < 3600; i += 10) {
    const push = [];
    for (let k = i; k < i + 10; k++) {
      const d = { ...samples[k % samples.length], hostname: 'h1' };
      d.timestamp_ns = base + k * 1e9;
      d.timestamp = isoSeconds(d.timestamp_ns / 1e6);
      push.push(d);
    }
    store.put('h1', push, { receivedMs: Date.now() });
  }
  store.close();
}

/**
 * One host-hour at 1 s (the real samples restamped a second apart, cycled: a counter that steps
 * back at a cycle gives no rate there, as across a reset) stored, then asked for per path: in this
 * process (no HTTP), the first query of a store opened afresh (nothing decoded yet) and the median
 * of 50 more (closed chunks cached), over 5 interleaved rounds; the general path (the sections
 * decoded, `series()`: what processes and app counters take) beside it; what decoding the hour's
 * chunks costs alone; then through a real serve (a fresh one per path: its first query is cold).
 */
async function seriesQueries(samples, dir) {
  const data = join(dir, 'series-data');
  const base = (Math.floor(Date.now() / 1000) - 7200) * 1e9;
  storeHour(samples, data, base);
  const loadBefore = loadavg()[0];
  const w = { fromNs: BigInt(base), toNs: BigInt(base + 3599e9) };
  const disk = samples[0].diskstats?.[0]?.device_name ?? 'sda';
  const net = samples[0].netdev?.[0]?.interface_name ?? 'lo';
  const paths = ['meminfo.MemAvailable', 'rates.cpu.all.busy', `rates.disk.${disk}.util`, 'rates.mem.used_pct', `rates.net.${net}.rx_bytes_s`, 'rates.vm.fault_s'];
  const timed = async (f) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const rounds = new Map(paths.map((p) => [p, { cold: [], warm: [], uncached: [], general: [] }]));
  for (let round = 0; round < 5; round++) {
    for (const path of paths) {
      const r = rounds.get(path);
      const local = new SqliteStore(data);
      const query = async () => buckets(await pathPoints(local, 'h1', w, path), base, 4e9);
      r.cold.push(await timed(query));
      const warm = [];
      for (let k = 0; k < 50; k++) warm.push(await timed(query));
      r.warm.push(median(warm));
      // The code warm, the chunks not: a store without a cache (every query reads, inflates and picks).
      const bare = new SqliteStore(data, { cacheBytes: 0 });
      const uncached = [];
      for (let k = 0; k < 50; k++) uncached.push(await timed(async () => buckets(await pathPoints(bare, 'h1', w, path), base, 4e9)));
      r.uncached.push(median(uncached));
      bare.close();
      if (path.startsWith('rates.')) {
        r.general.push(await timed(() => series(local.window('h1', w.fromNs, w.toNs, sectionsOf(path)), path)));
      }
      local.close();
    }
  }
  // The first query's own cost: the hour's chunks read, inflated and decoded (every value of every sample).
  const db = new Database(join(data, 'hostseries.db'), { readonly: true });
  db.defaultSafeIntegers(true);
  const chunks = db.prepare('SELECT codec, data FROM chunks WHERE hostname = ? AND last_ns >= ? AND first_ns <= ? ORDER BY first_ns').all('h1', w.fromNs, w.toNs);
  db.close();
  const inflate = [];
  const decode = [];
  let decodedBytes = 0;
  for (let round = 0; round < 5; round++) {
    let raw = [];
    inflate.push(await timed(() => (raw = chunks.map((c) => (Number(c.codec) === 1 ? inflateRawSync(c.data) : c.data)))));
    decode.push(await timed(() => {
      decodedBytes = raw.reduce((n, b) => n + binding().decodeSampleBlob(b).values.byteLength, 0);
    }));
  }
  const cold = { chunks: chunks.length, inflate: median(inflate), decode: median(decode), decodedBytes };
  const out = [];
  for (const path of paths) {
    const server = await startServe(data);
    // Beside it a server that keeps no chunk: each of its queries reads, inflates and picks the hour's.
    const bare = await startServe(data, ['--cache', '0']);
    const query = (url) => `${url}/api/v1/series?host=h1&path=${encodeURIComponent(path)}&from=${base}&to=${base + 3599e9}`;
    const once = async (q = query(server.url)) => {
      const t = performance.now();
      const r = await fetch(q);
      const body = await r.json();
      const ms = performance.now() - t;
      if (r.status !== 200) throw new Error(`series ${path}: ${r.status} ${JSON.stringify(body)}`);
      return { ms, points: body.points.length, values: body.points.reduce((n, p) => n + p.count, 0) };
    };
    const first = await once();
    const warm = [];
    const uncached = [];
    // 100: a fresh server's code is still being optimized over the first tens of queries. The two
    // servers asked in turn.
    for (let k = 0; k < 100; k++) {
      warm.push((await once()).ms);
      uncached.push((await once(query(bare.url))).ms);
    }
    for (const s of [server, bare]) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    const r = rounds.get(path);
    out.push({
      path, cold: first.ms, warm: median(warm), uncached: median(uncached.slice(10)), points: first.points, values: first.values,
      local: { cold: median(r.cold), warm: median(r.warm), uncached: median(r.uncached), general: r.general.length ? median(r.general) : undefined },
    });
  }
  return { rows: out, cold, load: [loadBefore, loadavg()[0]] };
}

/** The read section of serve.md. */
function readSection({ rows, cold, load }, command) {
  const ms = (v) => (v === undefined ? '' : v.toFixed(1));
  return [
    '## Read: a one-hour /api/v1/series query of one host at 1 s (3600 samples, 29 chunks), through HTTP',
    '',
    `Command: \`${command}\`${command.includes('--read') ? ' (this section alone)' : ''}, after \`npm run build\`, ${new Date().toISOString()}.`,
    '',
    'A sample value is read from the stored columns. A rate of disk, net, cpu, mem or vm is worked out',
    'by its one formula (lib/rates/formulas.ts, the one computeRates applies) over the columns of only',
    'its inputs and stat.btime (lib/serve/rate-inputs.ts); processes and app counters take the general',
    'path (their sections decoded, series()). The core picks only those columns\' values out of each chunk',
    '(pickSampleBlob: the other values skipped, not made). The first query after the server starts reads and',
    'inflates the chunks and picks; later ones find the closed chunks inflated and their picked values kept (`--cache`,',
    '64 MiB by default); beside it a server with `--cache 0`, asked in turn, reads, inflates and picks every time.',
    'Target ≤ 10 ms. Run alone: the times',
    `grow with anything else on the machine (load average ${load[0].toFixed(1)} at the start of this part, ${load[1].toFixed(1)} at its end, ${cpus().length} cores).`,
    '',
    '| path | values | buckets | HTTP: first query (ms) | HTTP: later, median of 100 (ms) | HTTP: later, `--cache 0`, median of 90 (ms) | in process: first (ms) | in process: later (ms) | in process: no cache (ms) | in process: general path, later (ms) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.path} | ${r.values} | ${r.points} | ${ms(r.cold)} | ${ms(r.warm)} | ${ms(r.uncached)} | ${ms(r.local.cold)} | ${ms(r.local.warm)} | ${ms(r.local.uncached)} | ${ms(r.local.general)} |`),
    '',
    'In process: a store opened afresh per path (first query), then 50 more (median), then 50 on a',
    'store without a cache (median); medians of 5 rounds interleaved over the paths. The general path:',
    'the same window through store.window (the sections the rate needs decoded into samples) and',
    'series(), once a round. `--cache 0` over HTTP: its first 10 queries left out (the code still cold).',
    '',
    `For scale, what the whole decode of the hour would cost (what reads did before pickSampleBlob): its ${cold.chunks} chunks inflated`,
    `(${cold.inflate.toFixed(1)} ms) and decoded (decodeSampleBlob, every value of every sample: ${(cold.decodedBytes / 1048576).toFixed(1)} MiB, ${cold.decode.toFixed(1)} ms),`,
    'medians of 5. The rest of a first HTTP query is the server\'s code run the first time (JIT).',
    '',
  ].join('\n');
}

/** serve.md with its read section replaced by `section` (added when it has none). */
function withReadSection(md, section) {
  const at = md.indexOf('## Read:');
  if (at < 0) return `${md.trimEnd()}\n\n${section}`;
  const next = md.indexOf('\n## ', at + 1);
  return md.slice(0, at) + section + (next < 0 ? '' : md.slice(next + 1));
}

const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

/**
 * Memory per connected host: the server's RSS once 1000 hosts have each pushed (3 pushes of 10
 * samples, 64 at a time) against its RSS after one host's pushes, over 1000.
 */
async function memoryPerHost(samples, dir, hosts = 1000) {
  const server = await startServe(join(dir, 'memory-data'));
  const bodiesOf = (name) => [0, 10, 20].map((i) => gzipSync(samples.slice(i, i + 10).map((d) => stringifyJson({ ...d, hostname: name })).join('\n') + '\n'));
  const send = async (body) => {
    const r = await fetch(`${server.url}/api/v1/samples`, {
      method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' },
    });
    if (r.status !== 200) throw new Error(`push: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  };
  for (const b of bodiesOf('warm-up')) await send(b);
  await sleep(1000);
  const before = rssOf(server.child.pid);
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < hosts) {
      const h = next++;
      for (const b of bodiesOf(`mem-${String(h).padStart(4, '0')}`)) await send(b);
    }
  }));
  await sleep(1000);
  const after = rssOf(server.child.pid);
  server.child.kill('SIGTERM');
  await server.exited;
  return { hosts, before, after, perHost: (after - before) / hosts };
}

export async function run({ quick = process.argv.includes('--quick'), readOnly = process.argv.includes('--read') } = {}) {
  const count = quick ? 300 : 1000;
  const interval = quick ? 0.05 : 0.1;
  const agents = quick ? 16 : 64;
  const batch = 10;
  const samples = await realSamples(count, interval);
  const dir = mkdtempSync(join(tmpdir(), 'hostseries-bench-serve-'));
  if (readOnly) {
    // The read section alone, put in place of the one in serve.md (the rest kept).
    try {
      const section = readSection(await seriesQueries(samples, dir), `node bench/serve.mjs --read${quick ? ' --quick' : ''}`);
      const file = join(here, 'results', 'serve.md');
      writeFileSync(file, withReadSection(existsSync(file) ? readFileSync(file, 'utf8') : '# serve\n', section));
      console.log(section);
      return section;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  try {
    // Every agent its own hostname; bodies made before the clock starts. The compact bodies as the
    // agent makes them (its layouts numbered by one registry per agent), gzipped as it sends them.
    const jsonBodies = [];
    const blobBodies = [];
    for (let a = 0; a < agents; a++) {
      const host = `agent-${String(a).padStart(3, '0')}`;
      const json = [];
      const blob = [];
      const reg = new LayoutRegistry();
      const texts = new Map();
      for (let i = 0; i < count; i += batch) {
        const dicts = samples.slice(i, i + batch).map((d) => ({ ...d, hostname: host }));
        json.push(gzipSync(dicts.map((d) => stringifyJson(d)).join('\n') + '\n'));
        blob.push(gzipSync(encodeBlobBody(dicts, reg, texts)));
      }
      jsonBodies.push(json);
      blobBodies.push(blob);
    }
    /** One round: a fresh server, every agent pushing its bodies one after the other. */
    const ingestRound = async (format, data) => {
      const server = await startServe(data);
      const bodies = format === 'blob' ? blobBodies : jsonBodies;
      const type = format === 'blob' ? BLOB_CONTENT_TYPE : 'application/x-ndjson';
      const cpu0 = cpuSeconds(server.child.pid);
      const t0 = performance.now();
      let accepted = 0;
      await Promise.all(bodies.map(async (list) => {
        for (const body of list) {
          const r = await fetch(`${server.url}/api/v1/samples`, {
            method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'gzip', 'content-type': type },
          });
          const reply = await r.json();
          if (r.status !== 200) throw new Error(`push: ${r.status} ${JSON.stringify(reply)}`);
          accepted += reply.accepted;
        }
      }));
      const wall = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(server.child.pid) - cpu0;
      const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))[1]) * 1024;
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      if (exit.code !== 0) throw new Error(`serve exited ${JSON.stringify(exit)}: ${server.stderr()}`);
      if (accepted !== agents * count) throw new Error(`${format}: accepted ${accepted} of ${agents * count}`);
      return { wall, cpu, rss };
    };
    // Interleaved (json, blob, json, blob, ...): the machine's other load falls on both alike.
    const rounds = { json: [], blob: [] };
    for (let k = 0; k < 3; k++) {
      for (const format of ['json', 'blob']) rounds[format].push(await ingestRound(format, join(dir, `data-${format}-${k}`)));
    }
    const mid = (list) => [...list].sort((a, b) => a.cpu - b.cpu)[Math.floor(list.length / 2)];
    const ingestOf = (format) => ({ ...mid(rounds[format]), rates: rounds[format].map((x) => agents * count / x.cpu) });
    const ing = { json: ingestOf('json'), blob: ingestOf('blob') };
    // The disk figures are of the compact pushes' store (the same chunks JSON pushes make).
    const data = join(dir, 'data-blob-0');
    const wireJson = jsonBodies.flat().reduce((n, b) => n + b.length, 0) / (agents * count);
    const wireBlob = blobBodies.flat().reduce((n, b) => n + b.length, 0) / (agents * count);

    const st = await stages(samples, batch, dir);
    const reads = await seriesQueries(samples, dir);
    const mem = await memoryPerHost(samples, dir, quick ? 200 : 1000);
    const file = join(data, 'hostseries.db');
    const wal = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
    const fileBytes = statSync(file).size + wal;
    const db = new Database(file, { readonly: true });
    const b = db.prepare('SELECT sum(length(data)) AS bytes, sum(count) AS n, count(*) AS chunks, sum(closed) AS closed FROM chunks').get();
    const layouts = db.prepare('SELECT sum(length(layout)) AS bytes, count(*) AS n FROM layouts').get();
    db.close();
    const hostSamples = agents * count;
    const jsonlGz = gzipSync(samples.map((d) => stringifyJson(d)).join('\n') + '\n').length / count;
    const json = samples.reduce((n, d) => n + Buffer.byteLength(stringifyJson(d)), 0) / count;
    const md = [
      '# serve: bytes per host-sample on disk, ingest rate',
      '',
      `Command: \`node bench/serve.mjs${quick ? ' --quick' : ''}\` (after \`npm run build\`), ${new Date().toISOString()}.`,
      '',
      `${count} real samples of this host (every metric, taken every ${interval} s), pushed by ${agents} concurrent agents`,
      `(each its own hostname: ${hostSamples} host-samples) in gzipped pushes of ${batch}, to a real \`hostseries serve\``,
      'on 127.0.0.1; then SIGTERM (the database closes, the WAL is checkpointed) and the file measured.',
      '',
      '| what | bytes per host-sample | target |',
      '|---|---|---|',
      `| SQLite file on disk (hostseries.db${wal ? ' + WAL' : ''}: ${fileBytes} B) | ${(fileBytes / hostSamples).toFixed(1)} | ≤ 200 |`,
      `| sample blobs alone (${b.chunks} chunks, ${b.closed} closed and deflated) | ${(b.bytes / hostSamples).toFixed(1)} | |`,
      `| layouts (${layouts.n}, JSON, once per host and shape) | ${(layouts.bytes / hostSamples).toFixed(1)} | |`,
      `| the same samples as JSON Lines .gz (reference) | ${jsonlGz.toFixed(1)} | |`,
      `| the same samples as JSON text (reference) | ${json.toFixed(0)} | |`,
      '',
      `Ingest: ${agents} agents each pushing its ${count / batch} bodies one after the other, gzipped; three rounds of each body, interleaved`,
      '(JSON Lines, compact, JSON Lines, ...), each on a fresh server; the median round (by server CPU) shown, every round\'s rate beside it.',
      '',
      '| ingest | JSON Lines (application/x-ndjson) | compact (application/vnd.hostseries.blob) | compact / JSON | target |',
      '|---|---|---|---|---|',
      `| host-samples per second of the server's CPU (user + sys) | ${(hostSamples / ing.json.cpu).toFixed(0)} (${ing.json.rates.map((x) => x.toFixed(0)).join(', ')}) | **${(hostSamples / ing.blob.cpu).toFixed(0)}** (${ing.blob.rates.map((x) => x.toFixed(0)).join(', ')}) | ${(ing.json.cpu / ing.blob.cpu).toFixed(2)}× | ≥ 5,000 on one core |`,
      `| server CPU per host-sample | ${(ing.json.cpu / hostSamples * 1e6).toFixed(0)} µs | ${(ing.blob.cpu / hostSamples * 1e6).toFixed(0)} µs | | |`,
      `| host-samples per second of wall time (${agents} agents and the server on this machine's ${require('node:os').cpus().length} cores) | ${(hostSamples / ing.json.wall).toFixed(0)} | ${(hostSamples / ing.blob.wall).toFixed(0)} | | |`,
      `| pushes per second | ${(hostSamples / batch / ing.json.wall).toFixed(0)} | ${(hostSamples / batch / ing.blob.wall).toFixed(0)} | | |`,
      `| bytes on the wire per host-sample (gzipped) | ${wireJson.toFixed(0)} | ${wireBlob.toFixed(0)} | | |`,
      `| server peak RSS | ${(ing.json.rss / 1048576).toFixed(0)} MiB | ${(ing.blob.rss / 1048576).toFixed(0)} MiB | | |`,
      '',
      `Where the server's CPU goes, per sample (in process, no HTTP nor gunzip; median of 5 rounds over the ${count} samples, pushes of ${batch}):`,
      '',
      '| stage | µs per sample |',
      '|---|---|',
      `| JSON Lines: JSON.parse of its line | ${st.parse.toFixed(0)} |`,
      `| JSON Lines: the check (TimeSeriesSample.fromDict, toDict) | ${st.check.toFixed(0)} |`,
      `| JSON Lines: dicts to columns (lib/native/encode.ts toColumns) | ${st.columns.toFixed(0)} |`,
      `| JSON Lines: store.put (toColumns, the new samples appended to the open chunk, SQLite) | ${st.put.toFixed(0)} |`,
      `| compact: the whole of ingestBlob (layouts, blob decoded, checks, putColumns) | ${st.blobIngest.toFixed(0)} |`,
      `| compact: putColumns alone (the new samples appended to the open chunk, SQLite) | ${st.putColumns.toFixed(0)} |`,
      `| compact, the agent's side: making the body from sample dicts (toColumns, encodeSampleBlob) | ${st.blobMake.toFixed(0)} |`,
      '',
      `JSON Lines: parse, check and put alone bound one core at ${(1e6 / (st.parse + st.check + st.put)).toFixed(0)} host-samples/s before HTTP and gunzip;`,
      `the compact body's ingestBlob at ${(1e6 / st.blobIngest).toFixed(0)}.`,
      '',
      'Each push is one SQLite transaction (WAL, synchronous=NORMAL): the new samples\' bytes are appended to',
      'the open chunk of its host (kept encoded in memory with its last sample, 64 MiB for all hosts; samples',
      'that go back in time have the chunk encoded again whole) and its row written back; a chunk is closed',
      '(and deflated) at 128.',
      '',
      `Memory per connected host: the server's RSS ${(mem.before / 1048576).toFixed(0)} MiB after one host's pushes, ${(mem.after / 1048576).toFixed(0)} MiB once ${mem.hosts} hosts`,
      `have pushed (3 gzipped pushes of 10 samples each): **${(mem.perHost / 1024).toFixed(0)} KiB per host** (target ≤ 1 MB).`,
      '',
      readSection(reads, `node bench/serve.mjs${quick ? ' --quick' : ''}`),
    ].join('\n');
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'serve.md'), md);
    console.log(md);
    return md;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().catch((e) => { console.error(e); process.exit(1); });
}
