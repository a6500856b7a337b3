// Serialise and parse 100 000 samples of this host (issue 3, "Benchmark"): samples per second
// each way and bytes per sample for the mlpstorage JSON (indent=2, plain and gzipped), JSON Lines
// and gzip JSON Lines, through the public API (writeTimeSeriesJson / JsonlSink, readTimeSeriesJson
// / readTimeSeriesJsonl). Writes bench/results/serialize.md.
//
//   node bench/serialize.mjs [--quick] [--samples N]      (after `npm run build`; imports dist/)
//
// The samples start from real samples of this host (the native sampleOnce) and then evolve as on
// a busy host: every non-zero counter grows by its own rate each second, memory gauges move, load
// averages change, so compression sees realistic data. The measuring runs in a child process with
// a larger heap: 100 000 distinct samples are about 2 GB of objects.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BenchError, RESULTS, ROOT, fmt, machine, machineMarkdown, nativeModulePath } from './lib/common.mjs';

const SELF = fileURLToPath(import.meta.url);
const WORKER_ENV = 'HOSTSERIES_SERIALIZE_WORKER';
const log = (...a) => console.error('[serialize]', ...a);

// ---------------------------------------------------------------------------------------------
// worker: the measurements

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const grow = (v, rate, i) => {
  if (rate === 0) return v;
  const n = typeof v === 'bigint' ? v + BigInt(rate * i) : v + rate * i;
  return typeof n === 'number' && !Number.isSafeInteger(n) ? BigInt(v) + BigInt(rate) * BigInt(i) : n;
};

/** Counter dict advanced by i seconds: zero counters stay zero, others grow at a per-key rate. */
function advance(d, i, salt) {
  const out = {};
  for (const k in d) {
    const v = d[k];
    out[k] = v === 0 || v === 0n ? v : grow(v, 1 + (hash(salt + k) % 4000), i);
  }
  return out;
}

function gauges(d, i) {
  const out = {};
  for (const k in d) {
    const v = Number(d[k]);
    out[k] = v === 0 ? 0 : Math.max(0, v + ((hash(k) + i * 7919) % 20001) - 10000);
  }
  return out;
}

/** Sample i: base sample (i mod bases) moved i seconds forward. */
function makeSampleDict(bases, i) {
  const b = bases[i % bases.length];
  // timestamp_ns is a number of nanoseconds (exact to 256 ns).
  const ns = bases[0].timestamp_ns + i * 1e9;
  const named = (e, key) => {
    const { [key]: name, ...counters } = e;
    return { [key]: name, ...advance(counters, i, name) };
  };
  const d = {
    timestamp: new Date(Math.floor(ns / 1e6)).toISOString().slice(0, 19) + 'Z',
    timestamp_ns: ns,
    hostname: b.hostname,
  };
  if (b.diskstats) d.diskstats = b.diskstats.map((e) => named(e, 'device_name'));
  if (b.vmstat) d.vmstat = advance(b.vmstat, i, 'vm');
  if (b.meminfo) d.meminfo = gauges(b.meminfo, i);
  if (b.loadavg) {
    d.loadavg = {
      load_1min: ((i * 37) % 800) / 100, load_5min: ((i * 13) % 600) / 100, load_15min: ((i * 7) % 400) / 100,
      running_processes: 1 + (i % 9), total_processes: b.loadavg.total_processes + (i % 50),
    };
  }
  if (b.netdev) d.netdev = b.netdev.map((e) => named(e, 'interface_name'));
  if (b.stat) {
    const { cpu, cpus, ...scalars } = b.stat;
    d.stat = {
      cpu: advance(cpu, i, 'cpu'),
      cpus: Object.fromEntries(Object.entries(cpus).map(([name, t]) => [name, advance(t, i, name)])),
      ...advance(scalars, i, 'stat'),
      btime: scalars.btime, procs_running: 1 + (i % 5), procs_blocked: i % 3,
    };
  }
  return d;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

async function measure(fn) {
  global.gc?.();
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, wallNs: Number(process.hrtime.bigint() - t0), cpuNs: cpuNow() - c0 };
}

async function worker(n) {
  const require = createRequire(import.meta.url);
  const { sampleOnce } = require(nativeModulePath());
  const { TimeSeriesData, TimeSeriesSample } = require(join(ROOT, 'dist', 'index.js'));
  const { stringifySample } = require(join(ROOT, 'dist', 'index.js'));
  const { writeTimeSeriesJson, readTimeSeriesJson, JsonlSink, readTimeSeriesJsonl, timeSeriesJsonChunks } = require(join(ROOT, 'dist', 'index.js'));

  const host = hostname();
  const bases = [];
  for (let k = 0; k < 4; k++) {
    bases.push(await sampleOnce({ hostname: host }));
    await new Promise((r) => setTimeout(r, 100));
  }
  const shape = bases[0];
  const make = (i) => TimeSeriesSample.fromTrustedDict(makeSampleDict(bases, i));
  log(`${n} samples of ${host}: ${shape.diskstats?.length ?? 0} disks, ${Object.keys(shape.vmstat ?? {}).length} vmstat, ` +
    `${Object.keys(shape.meminfo ?? {}).length} meminfo, ${shape.netdev?.length ?? 0} interfaces, ${Object.keys(shape.stat?.cpus ?? {}).length} cpus`);

  const dir = mkdtempSync(join(tmpdir(), 'hostseries-bench-'));
  const results = { n, host, shape: {
    disks: shape.diskstats?.length ?? 0, vmstat: Object.keys(shape.vmstat ?? {}).length, meminfo: Object.keys(shape.meminfo ?? {}).length,
    netdev: shape.netdev?.length ?? 0, cpus: Object.keys(shape.stat?.cpus ?? {}).length,
  }, rows: {} };
  try {
    let samples = Array.from({ length: n }, (_, i) => make(i));
    let data = new TimeSeriesData({
      collectionIntervalSeconds: 1, startTime: samples[0].timestamp, endTime: samples[n - 1].timestamp,
      collectionMethod: 'local', hostsRequested: [host], samplesByHost: new Map([[host, samples]]),
    });
    const meta = { collectionIntervalSeconds: 1, startTime: data.startTime, collectionMethod: 'local', hostsRequested: [host] };

    log('in memory: JSON text, JSONL lines');
    const jsonText = await measure(() => {
      let len = 0;
      for (const chunk of timeSeriesJsonChunks(data)) len += chunk.length;
      return len;
    });
    const lineText = await measure(() => {
      let len = 0;
      for (const s of samples) len += stringifySample(s.toDict()).length;
      return len;
    });

    const files = {
      json: join(dir, 'ts.json'), jsonGz: join(dir, 'ts.json.gz'), jsonl: join(dir, 'ts.jsonl'), jsonlGz: join(dir, 'ts.jsonl.gz'),
    };
    log('write: JSON');
    const wJson = await measure(() => writeTimeSeriesJson(files.json, data));
    log('write: JSON gzip');
    const wJsonGz = await measure(() => writeTimeSeriesJson(files.jsonGz, data));
    const writeJsonl = async (path) => {
      // One sample per interval, flushed before the next: the live case, and the worst for both
      // throughput and compression.
      const sink = new JsonlSink(path);
      await sink.open(meta);
      for (const s of samples) {
        sink.write(s, host);
        await sink.flush();
      }
      await sink.close({ endTime: data.endTime });
    };
    log('write: JSONL');
    const wJsonl = await measure(() => writeJsonl(files.jsonl));
    log('write: JSONL gzip');
    const wJsonlGz = await measure(() => writeJsonl(files.jsonlGz));
    samples = undefined;
    data = undefined;

    // Every sample read back is compared, a few in full against a fresh copy, all by count.
    const check = (d, label) => {
      const got = d.samplesByHost.get(host);
      if (!got || got.length !== n) throw new BenchError(`${label}: read ${got?.length} samples, expected ${n}`);
      for (const i of [0, 1, n >> 1, n - 1]) {
        const a = stringifySample(got[i].toDict());
        const b = stringifySample(make(i).toDict());
        if (a !== b) throw new BenchError(`${label}: sample ${i} differs after the round trip`);
      }
    };
    const readJson = async (path) => readTimeSeriesJson(path);
    const readJsonl = async (path) => (await readTimeSeriesJsonl(path)).data;
    const rows = [
      ['JSON (mlpstorage, indent=2)', files.json, wJson, readJson, jsonText],
      ['JSON, gzip', files.jsonGz, wJsonGz, readJson, undefined],
      ['JSONL', files.jsonl, wJsonl, readJsonl, lineText],
      ['JSONL, gzip', files.jsonlGz, wJsonlGz, readJsonl, undefined],
    ];
    for (const [label, path, w, read, text] of rows) {
      log(`read: ${label}`);
      const r = await measure(() => read(path));
      check(r.value, label);
      r.value = undefined;
      results.rows[label] = {
        bytes: statSync(path).size, text: text && { wallNs: text.wallNs, cpuNs: text.cpuNs },
        write: { wallNs: w.wallNs, cpuNs: w.cpuNs }, read: { wallNs: r.wallNs, cpuNs: r.cpuNs },
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// parent: run the worker, write the report

function markdown(res, m, secs, quick) {
  const n = res.n;
  const perS = (ns) => fmt(n / (ns / 1e9), 0);
  const us = (ns) => fmt(ns / n / 1e3, 1);
  const L = ['# hostseries: serialising and parsing samples', ''];
  L.push(`Produced by \`npm run bench\` (this module alone: \`node bench/serialize.mjs${quick ? ' --quick' : ''}\`) in ${fmt(secs, 0)} s.` +
    (quick ? ' **Quick run: fewer samples.**' : ''), '');
  L.push('## Machine', '', machineMarkdown(m), '');
  L.push(`## ${fmt(n, 0)} samples of this host`, '');
  L.push(`Each sample: ${res.shape.disks} disks, ${res.shape.vmstat} vmstat and ${res.shape.meminfo} meminfo keys, ${res.shape.netdev} interfaces, ` +
    `${res.shape.cpus} CPUs (real samples of \`${res.host}\` from \`sampleOnce\`, then evolved as on a busy host: every non-zero counter grows ` +
    'at its own rate each second, memory gauges and load averages move).', '');
  L.push('Through the public API: **write** = `writeTimeSeriesJson` (atomic: temp file, fsync, rename) or a `JsonlSink` ' +
    'given one sample at a time and flushed after each (the live case: one interval, one write; the worst case for speed and ' +
    'compression); **read** = `readTimeSeriesJson` / `readTimeSeriesJsonl` to a checked `TimeSeriesData` (every field validated, ' +
    'counters above 2^53 as exact bigints; the files are in the page cache). **in memory** = the text only, no I/O. ' +
    'Every read is checked against the written samples.', '');
  L.push('| format | bytes/sample | write: samples/s | write: CPU µs/sample | read: samples/s | read: CPU µs/sample | in memory, text only: samples/s |',
    '|---|---:|---:|---:|---:|---:|---:|');
  for (const [label, r] of Object.entries(res.rows)) {
    L.push(`| ${label} | ${fmt(r.bytes / n, 0)} | ${perS(r.write.wallNs)} | ${us(r.write.cpuNs)} | ${perS(r.read.wallNs)} | ${us(r.read.cpuNs)} | ${r.text ? perS(r.text.wallNs) : ''} |`);
  }
  L.push('', 'samples/s is wall-clock; CPU µs/sample is user+sys of the process (it includes the zlib and fs threads), ' +
    'which a busy machine disturbs less. Compare the load average above: on a loaded machine both move.', '');
  return L.join('\n');
}

export async function run({ quick = false, resultsDir = RESULTS, samples } = {}) {
  const n = samples ?? (quick ? 10_000 : 100_000);
  nativeModulePath(); // fails early, with a hint, without a build
  const m = machine();
  const t0 = Date.now();
  const res = await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=12288', SELF, String(n)], {
      env: { ...process.env, [WORKER_ENV]: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new BenchError(`serialize worker exited ${code}`))));
  });
  m.loadavgEnd = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();
  const md = markdown(res, m, (Date.now() - t0) / 1000, quick);
  writeFileSync(join(resultsDir, 'serialize.md'), md + '\n');
  return { markdown: md };
}

if (process.env[WORKER_ENV]) {
  const res = await worker(Number(process.argv[2]));
  process.stdout.write(JSON.stringify(res));
} else if (process.argv[1] === SELF) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--samples');
  const { markdown: md } = await run({ quick: argv.includes('--quick'), samples: at >= 0 ? Number(argv[at + 1]) : undefined });
  console.log(md);
}
