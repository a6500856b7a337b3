// `serve --prometheus` read path (issue 17): 64 hosts × one hour at 1 s (230,400 host-samples),
// remote-written into the real VictoriaMetrics and Prometheus 2.42 (Debian's packages, on
// 127.0.0.1), and the same samples in a SQLite serve; then the read API through HTTP on each:
// /api/v1/hosts, a one-hour /series of a value and of a rate, /fleet of a rate over the hour,
// /export of one host-hour, the dashboard's /api/v1/report over 15 min. Rounds interleaved (each
// round asks every backend each query in turn), median ms. Before each request a pause of 1.1 s:
// serve --prometheus keeps what /hosts asked of the TSDB for a second, so every request pays for
// its own host lookup (as an API client's does; a dashboard's redraws share one).
// Run: node bench/serve-prometheus.mjs [--quick] [--hosts N --seconds S --rounds R]   (after `npm run build`)
//
// Synthesis: real samples of this host (0.25 s apart) are the template; host h's second k copies
// template k mod n with every counter advanced by the template's own step times a factor in
// [0.6, 1.4) varying per host and second (counters stay monotonic, hosts differ). meminfo and
// vmstat keep the fields the dashboard reads, processes none: ~170 series per sample here.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../scripts/free-port.mjs';
import { BenchError, RESULTS, ROOT, conditions, conditionsText, cpuTimes, fmt, machine, machineMarkdown, median, sleep } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const dist = (p) => require(join(ROOT, 'dist', p));
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const TOKEN = 'bench-token-0123456789abcdef';

const VM_KEYS = ['pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'pswpin', 'pswpout'];
const MEM_KEYS = ['MemTotal', 'MemFree', 'MemAvailable', 'Cached', 'Buffers', 'SwapTotal', 'SwapFree'];
const NOT_COUNTERS = new Set(['device_name', 'interface_name', 'ios_in_progress']);

async function template(count) {
  const { TimeSeriesCollector } = dist('index.js');
  const c = new TimeSeriesCollector({ intervalSeconds: 0.25 });
  await c.start();
  while (c.sampleCount < count) await sleep(50);
  return (await c.stop()).slice(0, count).map((s) => s.toDict());
}

/** `prev`'s counters advanced by the template's step from `a` to `b` times `f` (a fresh object). */
function advance(prev, a, b, f) {
  const out = {};
  for (const k of Object.keys(b)) {
    if (NOT_COUNTERS.has(k) || typeof b[k] !== 'number') out[k] = b[k];
    else out[k] = prev[k] + Math.max(0, Math.round((b[k] - a[k]) * f));
  }
  return out;
}

const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/** Host `name`'s samples, a second apart from `startNs`, made `seconds` at a time (the state carried over). */
function hostSynth(base, h, name, startNs) {
  const n = base.length;
  const noise = (k) => {
    const x = Math.sin(h * 12.9898 + k * 78.233) * 43758.5453;
    return 0.6 + 0.8 * (x - Math.floor(x));
  };
  const b0 = base[0];
  let disks = b0.diskstats.map((d) => ({ ...d }));
  let nets = b0.netdev.map((d) => ({ ...d }));
  let stat = { ...b0.stat, cpus: undefined };
  let cpu = { ...b0.stat.cpu };
  let cpus = Object.fromEntries(Object.entries(b0.stat.cpus).map(([c, v]) => [c, { ...v }]));
  let vm = pick(b0.vmstat, VM_KEYS);
  let k = 0;
  return (seconds) => {
    const out = [];
    for (const end = k + seconds; k < end; k++) {
      if (k > 0) {
        const j = (k - 1) % (n - 1);
        const [a, b] = [base[j], base[j + 1]];
        const f = noise(k);
        disks = disks.map((d, i) => advance(d, a.diskstats[i], b.diskstats[i], f));
        nets = nets.map((d, i) => advance(d, a.netdev[i], b.netdev[i], f));
        cpu = advance(cpu, a.stat.cpu, b.stat.cpu, 1);
        cpus = Object.fromEntries(Object.entries(cpus).map(([c, v]) => [c, advance(v, a.stat.cpus[c], b.stat.cpus[c], 1)]));
        stat = { ...b.stat, ctxt: stat.ctxt + Math.max(0, b.stat.ctxt - a.stat.ctxt), intr: stat.intr + Math.max(0, b.stat.intr - a.stat.intr), processes: stat.processes + Math.max(0, b.stat.processes - a.stat.processes) };
        vm = advance(vm, pick(a.vmstat, VM_KEYS), pick(b.vmstat, VM_KEYS), f);
      }
      const t = base[k % n];
      const mem = pick(t.meminfo, MEM_KEYS);
      const used = mem.MemTotal - mem.MemAvailable;
      mem.MemAvailable = Math.max(0, Math.round(mem.MemTotal - used * (1 + h / 64 + 0.2 * Math.sin(k / 300))));
      const ns = startNs + k * 1e9 + h * 1e6;
      out.push({
        timestamp: new Date(ns / 1e6).toISOString().replace(/\.\d+Z$/, 'Z'), timestamp_ns: ns, hostname: name,
        diskstats: disks, netdev: nets, stat: { ...stat, cpu, cpus }, meminfo: mem, vmstat: vm, loadavg: t.loadavg, processes: [],
      });
    }
    return out;
  };
}

async function waitOk(url, child, what) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new BenchError(`bench: ${what} exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new BenchError(`bench: ${what} did not start (${url})`);
}

/** A TSDB on 127.0.0.1 (a free port, storage under `dir`), killed with the bench's process group. */
async function tsdb(kind, dir) {
  const port = await freePort(['127.0.0.1']);
  let bin;
  let args;
  let ready;
  if (kind === 'VictoriaMetrics') {
    bin = '/usr/bin/victoria-metrics';
    args = [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${join(dir, 'vm')}`, '-loggerLevel=ERROR', '-search.latencyOffset=1s'];
    ready = '/health';
  } else {
    bin = '/usr/bin/prometheus';
    writeFileSync(join(dir, 'prometheus.yml'), 'global: { scrape_interval: 15s }\n');
    args = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver', '--log.level=warn'];
    ready = '/-/ready';
  }
  const child = spawn(bin, args, { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitOk(`${url}${ready}`, child, kind);
  return { kind, url, child };
}

async function startServe(args) {
  const child = spawn(process.execPath, [MAIN, 'serve', '--listen', '127.0.0.1:0', ...args], {
    env: { ...process.env, HOSTSERIES_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (err += s));
  for (let i = 0; i < 400; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) return { url: m[1], child, stderr: () => err };
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new BenchError(`serve did not start: ${err}`);
}

function dirBytes(d) {
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(d, e.name)) : statSync(join(d, e.name)).size;
  return n;
}

/** One GET; its time (ms) and the body's size; a non-200 is the bench's failure (with the server's log). */
async function timed(url, serve) {
  const t0 = performance.now();
  const r = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  const body = await r.arrayBuffer();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new BenchError(`${url}: HTTP ${r.status}: ${Buffer.from(body).toString().slice(0, 300)}\n${serve.stderr().slice(-3000)}`);
  return { ms, bytes: body.byteLength };
}

/** `--hosts N`, `--seconds S`, `--rounds R` (e.g. a short run to compare two builds' /hosts; printed, not kept). */
function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

export async function run({ quick = false } = {}) {
  const hosts = arg('hosts') ?? (quick ? 8 : 64);
  const seconds = arg('seconds') ?? (quick ? 600 : 3600);
  const rounds = arg('rounds') ?? (quick ? 2 : 3);
  const { WriteRequestEncoder } = dist('prometheus/remote-write.js');
  const { postWriteRequest } = dist('prometheus/remote-writer.js');
  const { FULL_FIDELITY } = dist('prometheus/families.js');
  const { SqliteStore } = dist('serve/store/sqlite.js');

  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-serve-prom-'));
  const children = [];
  try {
    const base = await template(24);
    const dbs = await Promise.all(['VictoriaMetrics', 'Prometheus'].map((k) => tsdb(k, dir)));
    children.push(...dbs.map((d) => d.child));
    // The hour ends a minute ago (whole seconds), so every read has all of it.
    const startNs = (Math.floor(Date.now() / 1000) - seconds - 60) * 1e9;
    const names = Array.from({ length: hosts }, (_, h) => `node${String(h + 1).padStart(2, '0')}`);
    const synth = names.map((name, h) => hostSynth(base, h, name, startNs));
    const encoder = new WriteRequestEncoder(FULL_FIDELITY);
    const sqlitePath = join(dir, 'sqlite');
    const store = new SqliteStore(sqlitePath);
    // A minute of every host at a time, in time order (Prometheus takes a series' samples only in order).
    const load = { written: 0, series: 0, encodeMs: 0, writeMs: Object.fromEntries(dbs.map((d) => [d.kind, 0])), sqliteMs: 0 };
    const STEP = 60;
    for (let k = 0; k < seconds; k += STEP) {
      for (const s of synth) {
        const dicts = s(Math.min(STEP, seconds - k));
        let t = performance.now();
        const body = encoder.encode(dicts);
        load.encodeMs += performance.now() - t;
        await Promise.all(dbs.map(async (d) => {
          const t0 = performance.now();
          await postWriteRequest(`${d.url}/api/v1/write`, body, undefined, 120_000);
          load.writeMs[d.kind] += performance.now() - t0;
        }));
        t = performance.now();
        store.put(dicts[0].hostname, dicts, { receivedMs: dicts[dicts.length - 1].timestamp_ns / 1e6 });
        load.sqliteMs += performance.now() - t;
        load.written += dicts.length;
        if (k === 0 && load.series === 0) {
          const { toTimeSeries } = dist('prometheus/remote-write.js');
          load.series = toTimeSeries(dicts.slice(0, 1), FULL_FIDELITY).timeseries.length;
        }
      }
      if ((k / STEP) % 10 === 9) console.error(`bench: ${load.written} host-samples written`);
    }
    store.close();
    await fetch(`${dbs[0].url}/internal/force_flush`);

    const backends = [
      { name: 'SQLite (`--data`)', serve: await startServe(['--data', sqlitePath]) },
      ...(await Promise.all(dbs.map(async (d) => ({ name: `${d.kind} (\`--prometheus\`)`, serve: await startServe(['--prometheus', d.url]) })))),
    ];
    children.push(...backends.map((b) => b.serve.child));
    const endNs = startNs + (seconds - 1) * 1e9 + hosts * 1e6;
    const w = `from=${startNs}&to=${endNs}`;
    const span = seconds === 3600 ? 'one hour' : `${seconds} s`;
    const queries = [
      ['`/api/v1/hosts`', '/api/v1/hosts'],
      [`\`/series\` of a value (meminfo.MemAvailable), ${span}`, `/api/v1/series?host=node01&path=meminfo.MemAvailable&${w}`],
      [`\`/series\` of a rate (rates.cpu.all.busy), ${span}`, `/api/v1/series?host=node01&path=rates.cpu.all.busy&${w}`],
      [`\`/fleet\` of a rate (rates.cpu.all.busy), ${hosts} hosts, ${span}`, `/api/v1/fleet?path=rates.cpu.all.busy&${w}`],
      [`\`/export\` of one host, ${span}`, `/api/v1/export?hosts=node01&${w}`],
      [`\`/api/v1/report\` (the dashboard's data), ${hosts} hosts, 15 min`, `/api/v1/report?from=${endNs - 900e9}&to=${endNs}`],
    ];
    // The answers agree before they are timed (the counts: a TSDB keeps time to the ms, as the SQLite store here).
    for (const b of backends) {
      const listed = await (await fetch(`${b.serve.url}/api/v1/hosts`)).json();
      const n = listed.hosts.reduce((a, h) => a + h.samples, 0);
      if (listed.hosts.length !== hosts || n !== hosts * seconds) throw new BenchError(`${b.name}: ${listed.hosts.length} hosts, ${n} samples; expected ${hosts}, ${hosts * seconds}`);
    }
    const times = queries.map(() => backends.map(() => []));
    const sizes = queries.map(() => backends.map(() => 0));
    const failures = queries.map(() => backends.map(() => undefined));
    const c0 = cpuTimes();
    for (let r = 0; r < rounds; r++) {
      for (const [qi, [, path]] of queries.entries()) {
        for (const [bi, b] of backends.entries()) {
          await sleep(1100);
          // A failed request is said in the table (and its server's log here), not the end of the run.
          try {
            const { ms, bytes } = await timed(`${b.serve.url}${path}`, b.serve);
            times[qi][bi].push(ms);
            sizes[qi][bi] = bytes;
          } catch (e) {
            console.error(`bench: ${b.name} ${path}: ${e.message}`);
            failures[qi][bi] = e.message.split('\n')[0].replace(/^.*?: HTTP/, 'HTTP').slice(0, 120);
          }
        }
      }
      console.error(`bench: round ${r + 1}/${rounds}: ${queries.map((_, qi) => times[qi].map((t) => fmt(t[t.length - 1] ?? NaN, 0)).join('/')).join(' · ')} ms`);
    }
    const cond = conditions(c0, cpuTimes());

    const L = ['# serve --prometheus: the read API over a TSDB, beside the SQLite serve', ''];
    L.push(`Command: \`node bench/serve-prometheus.mjs${process.argv.slice(2).filter((a) => !a.endsWith('.mjs')).map((a) => ` ${a}`).join('')}\` (after \`npm run build\`), ${new Date().toISOString()}.${quick ? ' **Quick run: the numbers are rough.**' : ''}`, '');
    L.push(`${hosts} hosts × ${seconds} s at 1 s (${hosts * seconds} host-samples, ${load.series} series each: every disk, interface and CPU,`,
      'the meminfo and vmstat fields the dashboard reads), remote-written (FULL_FIDELITY, a minute of one host per request) into',
      'VictoriaMetrics (`-search.latencyOffset=1s`) and Prometheus 2.42 (`--web.enable-remote-write-receiver`) on 127.0.0.1, and put',
      'into the SQLite store of a `serve --data`. Then a `hostseries serve` on each, and each query through HTTP:',
      `${rounds} rounds, interleaved (every backend asked each query in turn), a 1.1 s pause before each request (serve --prometheus`,
      'keeps its host records a second: each request here pays for its own lookup). Median ms (min–max).', '');
    L.push('<!-- headline -->');
    L.push(`| query | ${backends.map((b) => b.name).join(' | ')} | answer (bytes) |`, `|---|${backends.map(() => '---:|').join('')}---:|`);
    for (const [qi, [label]] of queries.entries()) {
      const cells = times[qi].map((t, bi) => (t.length ? `${fmt(median(t), 0)} (${fmt(Math.min(...t), 0)}–${fmt(Math.max(...t), 0)})` : '') +
        (failures[qi][bi] ? ` failed ${rounds - t.length}× (${failures[qi][bi]})` : ''));
      L.push(`| ${label} | ${cells.join(' | ')} | ${sizes[qi][0] || Math.max(...sizes[qi])} |`);
    }
    L.push('<!-- /headline -->', '');
    L.push('Loading (not the point here, for scale): encoding the remote writes ' +
      `${fmt(load.encodeMs / 1000, 1)} s, VictoriaMetrics took them in ${fmt(load.writeMs.VictoriaMetrics / 1000, 1)} s, Prometheus in ` +
      `${fmt(load.writeMs.Prometheus / 1000, 1)} s (the two written at once), the SQLite store ${fmt(load.sqliteMs / 1000, 1)} s. On disk after the load: ` +
      `VictoriaMetrics ${fmt(dirBytes(join(dir, 'vm')) / 2 ** 20, 1)} MiB, Prometheus ${fmt(dirBytes(join(dir, 'prom')) / 2 ** 20, 1)} MiB (its WAL), SQLite ${fmt(dirBytes(sqlitePath) / 2 ** 20, 1)} MiB.`, '');
    L.push(conditionsText(cond, 'the TSDBs, the three servers and this process'), '');
    L.push('## Machine', '', machineMarkdown(machine()), '');
    const md = L.join('\n');
    console.log(md);
    // A run with other sizes is printed only: the results file holds the standard one.
    if (['hosts', 'seconds', 'rounds'].some((n) => arg(n) !== undefined)) return undefined;
    writeFileSync(join(RESULTS, 'serve-prometheus.md'), md + '\n');
    return md;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
  process.exit(0);
}
