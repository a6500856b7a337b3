// What watching processes costs (issue 13, "Native, at the cost of the kernel"): 100 watched
// processes at 1 Hz, the Rust ProcWatcher (crates/core/examples/bench_procs.rs: what the
// sampling thread does for `watch` each tick) beside a C floor that reads the same files of the
// same processes with kept fds at the same cadence (bench/procs_floor.c). Target: ≤ 0.5% of one
// core and ≤ 1.2× the floor. Writes bench/results/procs.md.
//
//   node bench/procs.mjs [--quick]
//
// A shell starts 100 `sleep`s (the wrapped command's tree, as `record -- cmd` watches it); the
// Rust side watches `tree:<shell>` (so it lists /proc and looks at new PIDs as it would), the
// floor reads the 101 PIDs' stat, status and io. Both run at once, half a period apart (so
// neither reads just after the other and finds the kernel's paths warm), warm up, then each
// window reads each process's CPU from outside, /proc/<pid>/task/*/schedstat (ns, every
// thread), at its start and end. Per-window ratios; medians over the windows.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  BenchError, RESULTS, buildC, buildRustExample, conditions, conditionsText, cpuTimes, fmt, machine, machineMarkdown, max, median, min,
  runJson, sleep,
} from './lib/common.mjs';

const log = (...a) => console.error('[procs]', ...a);

/** On-CPU ns of every live thread of `pid`. */
function cpuNs(pid) {
  let ns = 0;
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN;
  }
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended while we looked
    }
  }
  return ns;
}

function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Start a program that prints one JSON line when it ends; `done` resolves to it. */
function start(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  p.done = new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new BenchError(`bench: ${cmd} exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new BenchError(`bench: ${cmd} printed no JSON: ${out} ${err}`));
      }
    });
  });
  return p;
}

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  const t0 = Date.now();
  const n = 100;
  const hz = 1;
  const warmS = quick ? 3 : 10;
  const windowS = quick ? 5 : 30;
  const rounds = quick ? 2 : 6;
  log('building bench/procs_floor.c and the Rust example bench_procs ...');
  const floorBin = buildC('procs_floor');
  const nativeBin = buildRustExample('bench_procs');
  const m = machine();
  const list = runJson(nativeBin, ['list', '2000']);
  const parse = runJson(nativeBin, ['parse', '200000']);

  const tree = spawn('sh', ['-c', `for i in $(seq ${n}); do sleep 100000 & done; wait`], { stdio: 'ignore' });
  const procs = [];
  try {
    for (let i = 0; i < 100 && children(tree.pid).length < n; i++) await sleep(50);
    const pids = [tree.pid, ...children(tree.pid)];
    if (pids.length !== n + 1) throw new BenchError(`bench: the shell started ${pids.length - 1} of ${n} sleeps`);
    const total = warmS + windowS * rounds + 3;
    const half = String(Math.round(1e9 / hz / 2));
    const native = start(nativeBin, ['paced', String(hz), String(total), '0', `tree:${tree.pid}`]);
    const floor = start(floorBin, ['paced', String(hz), String(total), half, ...pids.map(String)]);
    procs.push(native, floor);
    log(`${pids.length} processes watched; ${warmS} s warm-up, then ${rounds} windows of ${windowS} s`);
    await sleep(warmS * 1000);
    const windows = [];
    for (let r = 0; r < rounds; r++) {
      const a = [cpuNs(native.pid), cpuNs(floor.pid)];
      const c0 = cpuTimes();
      const w0 = process.hrtime.bigint();
      await sleep(windowS * 1000);
      const b = [cpuNs(native.pid), cpuNs(floor.pid)];
      const wall = Number(process.hrtime.bigint() - w0);
      const [nat, flo] = [b[0] - a[0], b[1] - a[1]];
      if (!(nat > 0 && flo > 0)) throw new BenchError('bench: a contender ended during a window');
      windows.push({ native: nat, floor: flo, wall, ratio: nat / flo, cond: conditions(c0, cpuTimes()) });
      log(`window ${r + 1}/${rounds}: native ${fmt(nat / 1e6 / (windowS * hz), 3)} ms/tick, floor ${fmt(flo / 1e6 / (windowS * hz), 3)} ms/tick, ×${fmt(nat / flo, 2)}`);
    }
    const [nativeOut, floorOut] = await Promise.all([native.done, floor.done]);
    const secs = (Date.now() - t0) / 1000;
    const md = report({ m, n, hz, warmS, windowS, rounds, windows, nativeOut, floorOut, list, parse, quick, secs, pids: pids.length });
    writeFileSync(join(RESULTS, 'procs.md'), md + '\n');
    console.log(md);
    return md;
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    for (const c of children(tree.pid)) {
      try {
        process.kill(c, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    tree.kill('SIGTERM');
  }
}

function report(r) {
  const perTick = (ns) => ns / 1e6 / (r.windowS * r.hz);
  const pctCore = (w, k) => (100 * w[k]) / w.wall;
  const nat = r.windows.map((w) => perTick(w.native));
  const flo = r.windows.map((w) => perTick(w.floor));
  const ratios = r.windows.map((w) => w.ratio);
  const natPct = r.windows.map((w) => pctCore(w, 'native'));
  const floPct = r.windows.map((w) => pctCore(w, 'floor'));
  const ratio = median(ratios);
  const pct = median(natPct);
  const no = r.nativeOut;
  const L = [];
  L.push('# Watched processes: cost of reading them', '');
  L.push(`Command: \`node bench/procs.mjs${r.quick ? ' --quick' : ''}\`, ${fmt(r.secs, 0)} s${r.quick ? ' — **--quick smoke run: few, short windows**' : ''}.`, '');
  L.push(`A shell starts ${r.n} \`sleep\`s; ${r.pids} processes are read at ${r.hz} Hz by two programs running at once, half a period apart: ` +
    `**hostseries** (\`bench_procs paced\`: \`ProcWatcher::read\` watching \`tree:<shell>\` — lists /proc when a PID was handed out since ` +
    'the last tick, reads the `stat` of each new PID once, preads and parses `stat`, `status`, `io` of every watched process through kept ' +
    'descriptors) and the **C floor** (`bench/procs_floor.c`: the same three files of the same PIDs, kept fds, pread, nothing else). ' +
    `After ${r.warmS} s of warm-up, ${r.rounds} windows of ${r.windowS} s; CPU per process is every thread's from ` +
    '`/proc/<pid>/task/*/schedstat` over the window. × floor is the median of per-window ratios.', '');
  L.push('<!-- headline -->');
  L.push('| process | CPU per tick (median) | min–max | % of one core (median) | × floor |', '|---|---:|---:|---:|---:|');
  L.push(`| C floor | ${fmt(median(flo), 3)} ms | ${fmt(min(flo), 3)}–${fmt(max(flo), 3)} ms | ${fmt(median(floPct), 3)}% | 1.00× |`);
  L.push(`| **hostseries ProcWatcher** | **${fmt(median(nat), 3)} ms** | ${fmt(min(nat), 3)}–${fmt(max(nat), 3)} ms | **${fmt(pct, 3)}%** | **${fmt(ratio, 2)}×** |`);
  L.push('<!-- /headline -->', '');
  L.push(`Per-window ratios: ${ratios.map((x) => fmt(x, 2)).join(', ')}. Targets: ≤ 0.5% of one core — **${pct <= 0.5 ? 'met' : 'missed'}** ` +
    `(${fmt(pct, 3)}%); ≤ 1.2× the floor — **${ratio <= 1.2 ? 'met' : 'missed'}** (${fmt(ratio, 2)}×).`, '');
  L.push(`hostseries saw ${no.entries_min}–${no.entries_max} processes per tick, ${no.shape_changes} shape change(s), ${no.errors} error(s)` +
    `${no.errors ? ` (${no.first_errors.join('; ')})` : ''}; the floor read ${r.floorOut.processes} processes, ${fmt(r.floorOut.bytes_per_tick / 1024, 1)} KiB a tick, ` +
    `${r.floorOut.errors} error(s). Their own thread CPU clocks, whole run (first two hostseries ticks, which open every file, left out): ` +
    `hostseries ${fmt(no.thread_cpu_ns / no.iters / 1e6, 3)} ms/tick, floor ${fmt(r.floorOut.thread_cpu_ns / r.floorOut.iters / 1e6, 3)} ms/tick.`, '');
  L.push('### Parts, in isolation', '');
  L.push(`- Listing /proc (${r.list.pids} PIDs here), thread CPU per listing over ${r.list.iters} in turn: getdents64 on a kept descriptor ` +
    `${fmt(r.list.getdents_ns / 1e3, 1)} µs, \`std::fs::read_dir\` ${fmt(r.list.read_dir_ns / 1e3, 1)} µs. The watcher skips it while the ` +
    'last PID in /proc/loadavg is unchanged (no process created since).');
  L.push(`- A look at one PID not watched (open, read, close its \`stat\`; hot caches): ${fmt(r.list.look_ns / 1e3, 1)} µs. ` +
    `Over the run hostseries listed /proc at ${fmt(no.listings / no.iters, 2)} of its ticks (skipped ${no.listings_skipped}) and looked at ` +
    `${fmt(no.looks / no.iters, 1)} PIDs a tick: processes other work on the machine created (${fmt(no.looks / no.iters, 1)} × ` +
    `${fmt(r.list.look_ns / 1e3, 1)} µs ≈ ${fmt((no.looks / no.iters) * r.list.look_ns / 1e6, 3)} ms a tick, hot; more at 1 Hz, cold), ` +
    'which the floor, reading fixed PIDs, never does.');
  L.push(`- Parsing one process's texts (this machine's, hot caches, \`bench_procs parse ${r.parse.iters}\`): stat ${r.parse.stat_ns} ns, ` +
    `status ${r.parse.status_ns} ns (${r.parse.status_bytes} bytes), io ${r.parse.io_ns} ns.`, '');
  const last = r.windows[r.windows.length - 1].cond;
  const busiest = Math.max(...r.windows.map((w) => w.cond.busy));
  L.push(conditionsText(last) + ` Busiest window: ${fmt(busiest * 100, 0)}% of all CPUs (other work on this shared machine: new PIDs it ` +
    'creates are what hostseries lists and looks at, and the floor does not).', '');
  L.push(machineMarkdown(r.m));
  return L.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run().catch((e) => {
    console.error(e?.message ?? e);
    process.exit(1);
  });
}
