// Whole-process cost, measured as a user measures it (issue 12): every thread of each process
// (the sampler thread, the JS thread, V8's and libuv's), steady state, at the cadences users run
// (1 Hz, 10 Hz), side by side with a paced C floor and with peers. Per-sample CPU and ratios to
// the floor of the same round; medians over interleaved rounds.
//
//   node bench/process.mjs [--quick]        (after `npm ci`; peers: scripts/install-bench-deps.sh)
//
// Every contender runs at once (they are light at these rates, so they hardly disturb each
// other), each ticking at its own phase of the period, spread evenly (see phases()), and warms
// up for a minute (steady state: see session()); then each round is a window
// over which each process's CPU is read from outside, /proc/<pid>/task/*/schedstat (ns, every
// thread) at its start and end, and its RSS at its end. A peer that is not installed is left out of the table, and says so.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BenchError, RESULTS, ROOT, buildC, conditions, conditionsText, cpuTimes, fmt, machine, machineMarkdown, median, sleep } from './lib/common.mjs';

/** On-CPU ns of every live thread of `pid`, by tid (with the thread's name in `names`). */
function taskTimes(pid, names = new Map()) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      names.set(tid, readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
    } catch {
      // the thread ended while we looked
    }
  }
  return out;
}

/** CPU ns spent between two taskTimes() readings (threads born in between count whole). */
function spent(a, b) {
  let ns = 0;
  for (const [tid, t] of b) ns += t - (a.get(tid) ?? 0);
  return ns;
}

/** The same, by kind of thread: hostseries' sampler and stream writer, and the rest (JS, V8, libuv). */
function spentByThread(a, b, names) {
  const by = { sampler: 0, writer: 0, rest: 0 };
  for (const [tid, t] of b) {
    const name = names.get(tid);
    const kind = name === 'hostseries-samp' ? 'sampler' : name === 'hostseries-writ' ? 'writer' : 'rest';
    by[kind] += t - (a.get(tid) ?? 0);
  }
  return by;
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Phases. Whichever process reads /proc just after another finds the kernel's paths warm: with
 * phases left to chance (every contender started at once, each ticking from its own start),
 * the floor's cost and so every ratio moved with the start-up order (record measured 1.28× in
 * one run and 1.76× in the next). Each contender now ticks at its own phase of the period,
 * spread evenly (slot k of n at k·period/n on CLOCK_MONOTONIC): the floor by its PHASE_NS
 * argument, a Node or Python contender by waiting for its phase before it starts sampling
 * (AT_PHASE below), sadc by being started at its phase, node_exporter by being scraped at it.
 * `record`'s own phase is read back from its stream and printed beside the table.
 */
const AT_PHASE = `
function atPhase(periodNs, phaseNs, fn) {
  const P = BigInt(periodNs), now = process.hrtime.bigint();
  let due = now - (now % P) + BigInt(phaseNs);
  while (due < now + 20_000_000n) due += P;
  const wait = () => {
    const left = due - process.hrtime.bigint();
    if (left > 2_000_000n) setTimeout(wait, Number(left / 1_000_000n) - 1);
    else { while (process.hrtime.bigint() < due); fn(); }
  };
  wait();
}
`;

/** The time from calling the CLI's main() to record's first tick (options, output files, the collector's start), measured: ~22 ms. */
const RECORD_START_NS = 22e6;

const HARNESS = `${AT_PHASE}
const { TimeSeriesCollector } = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
const c = new TimeSeriesCollector({ intervalSeconds: Number(process.argv[1]), maxSamples: 100000 });
atPhase(process.argv[2], process.argv[3], () => c.start().then(() => setInterval(() => {}, 1 << 30)));
process.on('SIGTERM', () => c.stop().then(() => process.exit(0)));
`;

// The CLI itself (dist/cli/main.js's main(), as its bin runs it), loaded first and started at its phase.
const RECORD = `${AT_PHASE}
const { main } = require(${JSON.stringify(join(ROOT, 'dist', 'cli', 'main.js'))});
atPhase(process.argv[1], process.argv[2], () => main(['node', 'hostseries', ...process.argv.slice(3)]).then((code) => process.exit(code)));
`;

// A psutil loop that collects what we collect (disks, nics, memory, per-CPU times, load) on
// absolute deadlines and keeps the results, as a Python collector would.
const PSUTIL = `
import os, sys, time, psutil
interval = float(sys.argv[1]); phase = float(sys.argv[2]); kept = []
now = time.monotonic(); t = now - now % interval + phase
while t < now + 0.02: t += interval
time.sleep(t - now)
while True:
    kept.append((psutil.disk_io_counters(perdisk=True), psutil.net_io_counters(pernic=True),
                 psutil.virtual_memory(), psutil.cpu_times(percpu=True), os.getloadavg()))
    if len(kept) > 100000: kept.clear()
    t += interval
    time.sleep(max(0.0, t - time.monotonic()))
`;

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

/** The contenders: name → how to start one at `hz` for at least `seconds` (null: not installed). */
function contenders(floor, dir, lineBytes) {
  const py = which('python3');
  const hasPsutil = py && spawnSync(py, ['-c', 'import psutil'], { stdio: 'ignore' }).status === 0;
  const sadc = existsSync('/usr/lib/sysstat/sadc') ? '/usr/lib/sysstat/sadc' : null;
  const nodeExporter = which('prometheus-node-exporter') ?? which('node_exporter');
  let n = 0;
  return [
    { name: 'C floor (kept fds, pread, clock_nanosleep)', key: 'floor', start: (hz, s, ph) => spawn(floor, ['paced', String(hz), String(s), String(ph)], { stdio: 'ignore' }) },
    // What writing the stream costs the kernel by itself: the same reads, plus one line of
    // record's size appended per tick. record can be no cheaper than this row.
    { name: `C floor + a ${fmt(lineBytes / 1024, 1)} KiB line appended a tick (record's stream line; one write())`, key: 'floorWrite',
      start: (hz, s, ph) => spawn(floor, ['paced', String(hz), String(s), String(ph), join(dir, `floor-${n++}.jsonl`), String(lineBytes)], { stdio: 'ignore' }) },
    { name: 'hostseries: idle harness (TimeSeriesCollector, no live consumer)', key: 'harness', start: (hz, s, ph) => spawn(process.execPath, ['-e', HARNESS, String(1 / hz), String(periodNs(hz)), String(ph)], { stdio: 'ignore' }) },
    { name: 'hostseries record', key: 'record', stream: true, start: (hz, s, ph) => spawn(process.execPath, ['-e', RECORD, String(periodNs(hz)), String((ph - RECORD_START_NS + 100 * periodNs(hz)) % periodNs(hz)),
      'record', '-q', '-i', String(1 / hz), '-d', String(s), '-o', join(dir, `rec-${n++}.json`)], { stdio: 'ignore' }) },
    { name: 'psutil loop (Python)', key: 'psutil', missing: hasPsutil ? null : 'python3 with psutil', start: (hz, s, ph) => spawn(py, ['-c', PSUTIL, String(1 / hz), String(ph / 1e9)], { stdio: 'ignore' }) },
    // sadc's interval is whole seconds: no 10 Hz row. Started at its phase (it then sleeps a
    // second after each sample, so it drifts by its own run time, ~1 ms a second).
    { name: 'sysstat sadc (collects more than we do)', key: 'sadc', missing: sadc ? null : 'sysstat', only: [1], startsAtPhase: true, start: (hz, s) => spawn(sadc, ['-S', 'DISK', '1', String(s + 5), join(dir, `sa-${n++}`)], { stdio: 'ignore' }) },
    // Scraped at 100 Hz it would take half a CPU of this 2-CPU machine and disturb every other row.
    { name: 'node_exporter (diskstats, meminfo, netdev, loadavg, stat, vmstat), scraped at the same rate', key: 'node_exporter', missing: nodeExporter ? null : 'prometheus-node-exporter', scrape: true, only: [1, 10],
      start: (hz, s, ph, port) => spawn(nodeExporter, ['--web.listen-address', `127.0.0.1:${port}`, '--collector.disable-defaults',
        '--collector.diskstats', '--collector.meminfo', '--collector.netdev', '--collector.loadavg', '--collector.stat', '--collector.cpu', '--collector.vmstat'], { stdio: 'ignore' }) },
  ];
}

const periodNs = (hz) => Math.round(1e9 / hz);

/** The size of a sample line of `record`'s stream on this machine (median of a short run's). */
function streamLineBytes(dir) {
  const out = join(dir, 'line-size.jsonl');
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'record', '-q', '-i', '0.1', '-d', '1', '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError(`bench: record for the line size failed: ${r.stderr}`);
  const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('"timestamp_ns"'));
  rmSync(out);
  return median(lines.map((l) => Buffer.byteLength(l) + 1));
}

/** ms from now until CLOCK_MONOTONIC is next ≡ `phaseNs` (mod the period), at least 20 ms ahead. */
function untilPhase(hz, phaseNs) {
  const P = BigInt(periodNs(hz));
  const now = process.hrtime.bigint();
  let due = now - (now % P) + BigInt(phaseNs);
  while (due < now + 20_000_000n) due += P;
  return Number(due - now) / 1e6;
}

/** `record`'s phase (ms into the period, CLOCK_MONOTONIC) from the last sample of its stream in `dir`. */
function streamPhaseMs(dir, hz) {
  const off = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    const m = [...text.matchAll(/"timestamp_ns":(\d+)/g)].pop();
    if (m) return Number((BigInt(m[1]) - off) % BigInt(periodNs(hz))) / 1e6;
  }
  return NaN;
}

async function scrapeLoop(port, hz, until, phaseNs) {
  await sleep(untilPhase(hz, phaseNs));
  let t = Date.now();
  while (Date.now() < until) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch {
      // not up yet
    }
    t += 1000 / hz;
    await sleep(Math.max(0, t - Date.now()));
  }
}

/**
 * One set of contenders at `hz`: started together, warmed up, then measured over `rounds`
 * consecutive windows. Warm-up matters: a Node process that has just loaded a large module keeps
 * V8's background threads busy (memory reducer, GC, code flushing) for tens of seconds, ~0.6 ms
 * of CPU a second at first and ~0.04 ms after 40 s, measured on this machine: a short warm-up
 * measures start-up, not the steady state a long benchmark run sees.
 */
async function session(list, hz, warmS, windowS, rounds, dir) {
  const total = warmS + windowS * rounds + 2;
  const port = 19100 + Math.floor(Math.random() * 800);
  const live = list.filter((c) => !c.missing && (!c.only || c.only.includes(hz)));
  // Slot k of n at k·period/n (see AT_PHASE).
  const phase = (k) => Math.round((k * periodNs(hz)) / live.length);
  const procs = [];
  let scraper = null;
  for (const [k, c] of live.entries()) {
    if (c.startsAtPhase) await sleep(untilPhase(hz, phase(k)));
    procs.push({ c, phaseNs: phase(k), p: c.start(hz, total, phase(k), port) });
    if (c.scrape) scraper = scrapeLoop(port, hz, Date.now() + (total - 1) * 1000, phase(k));
  }
  const results = [];
  try {
    await sleep(warmS * 1000);
    const rec = procs.find(({ c }) => c.stream);
    if (rec) results.recordPhase = { target: rec.phaseNs / 1e6, measured: streamPhaseMs(dir, hz) };
    results.phases = procs.map(({ c, phaseNs }) => `${c.key} ${fmt(phaseNs / 1e6, 1)} ms`);
    for (let r = 0; r < rounds; r++) {
      const before = procs.map(({ p }) => taskTimes(p.pid));
      const m0 = cpuTimes();
      await sleep(windowS * 1000);
      const names = procs.map(() => new Map());
      const after = procs.map(({ p }, i) => taskTimes(p.pid, names[i]));
      const rss = procs.map(({ p }) => rssKiB(p.pid));
      const cond = conditions(m0, cpuTimes());
      const out = {};
      procs.forEach(({ c }, i) => {
        if (after[i].size === 0) throw new BenchError(`bench: ${c.name} exited during the window`);
        const perSample = (ns) => ns / 1e6 / (windowS * hz);
        const by = spentByThread(before[i], after[i], names[i]);
        out[c.key] = {
          msPerSample: perSample(spent(before[i], after[i])), rssKiB: rss[i],
          threads: { sampler: perSample(by.sampler), writer: perSample(by.writer), rest: perSample(by.rest) },
        };
      });
      results.push({ out, cond });
    }
  } finally {
    for (const { p } of procs) p.kill('SIGTERM');
    await scraper;
    await Promise.all(procs.map(({ p }) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', r)))));
  }
  return results;
}

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new BenchError('bench: dist/ is missing; run `npm ci` first');
  const floor = buildC('floor');
  const dir = mkdtempSync(join(tmpdir(), 'hostseries-process-'));
  const rounds = quick ? 1 : 5;
  const lineBytes = streamLineBytes(dir);
  const list = contenders(floor, dir, lineBytes);
  const cadences = [
    { hz: 1, warmS: quick ? 3 : 60, windowS: quick ? 5 : 30 },
    { hz: 10, warmS: quick ? 2 : 60, windowS: quick ? 3 : 15 },
    // The sampler's own cadence limit, where the cold-cache cost per tick matters most.
    { hz: 100, warmS: quick ? 2 : 30, windowS: quick ? 3 : 10 },
  ];
  const tables = [];
  try {
    for (const { hz, warmS, windowS } of cadences) {
      const rs = await session(list, hz, warmS, windowS, rounds, dir);
      const keys = Object.keys(rs[0].out);
      const rows = keys.map((k) => {
        const c = list.find((x) => x.key === k);
        const ms = median(rs.map((x) => x.out[k].msPerSample));
        const ratio = median(rs.map((x) => x.out[k].msPerSample / x.out.floor.msPerSample));
        const rss = median(rs.map((x) => x.out[k].rssKiB));
        return `| ${c.name} | ${fmt(ms, 3)} ms | ${fmt(ratio, 2)}× | ${fmt(rss / 1024, 1)} MiB |`;
      });
      const ours = keys.filter((k) => k === 'harness' || k === 'record');
      const recordOverWrite = median(rs.map((x) => x.out.record.msPerSample / x.out.floorWrite.msPerSample));
      const threadRows = ours.map((k) => {
        const t = (kind) => fmt(median(rs.map((x) => x.out[k].threads[kind])), 3);
        return `| ${list.find((x) => x.key === k).name} | ${t('sampler')} ms | ${t('writer')} ms | ${t('rest')} ms |`;
      });
      tables.push([
        `### ${hz} Hz (${rounds} consecutive window${rounds > 1 ? 's' : ''} of ${windowS} s after ${warmS} s of warm-up)`,
        '',
        '<!-- headline -->',
        '| process | CPU per sample (all threads, median) | × the paced C floor (median of per-round ratios) | RSS |',
        '|---|---|---|---|',
        ...rows,
        '<!-- /headline -->',
        '',
        'hostseries by thread (median per sample): the sampling thread, the stream writer thread (`record`), and every other thread (JS, V8, libuv).',
        '',
        '| process | sampler | stream writer | other threads |',
        '|---|---|---|---|',
        ...threadRows,
        '',
        `\`record\` ÷ the floor that also appends its line: **${fmt(recordOverWrite, 2)}×** (median of per-round ratios).`,
        '',
        `Phases (each contender's ticks, ms into the ${fmt(1000 / hz, 0)} ms period): ${rs.phases.join(', ')}` +
          (rs.recordPhase ? `; record measured at ${fmt(rs.recordPhase.measured, 1)} ms from its stream (target ${fmt(rs.recordPhase.target, 1)}).` : '.'),
        '',
        conditionsText(rs[rs.length - 1].cond),
        '',
      ].join('\n'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const missing = list.filter((c) => c.missing).map((c) => `${c.name} (needs ${c.missing})`);
  const md = [
    '# Whole-process cost at the cadences users run',
    '',
    `Command: \`node bench/process.mjs${quick ? ' --quick' : ''}\`, ${new Date().toISOString()}.`,
    '',
    'Every contender runs at once, each at its own phase of the period, spread evenly (one that reads /proc just after',
    'another finds the kernel\'s paths warm: with phases left to chance the ratios moved with the start-up order),',
    'warmed up for a minute first (a Node process that has just loaded',
    'a large module spends ~0.6 ms a second in V8 background work at first, ~0.04 ms after 40 s);',
    'each round is a window over which CPU is each process\'s own, all threads, from',
    '`/proc/<pid>/task/*/schedstat`; the ratio divides by the C floor of the same window. Targets (issue 12): idle harness ≤ 1.3×, `record` ≤ 1.5× the paced floor. node_exporter',
    'is scraped by the benchmark process at the same rate (the scraper\'s own parsing is not counted).',
    'mlpstorage\'s collector is left out: it is not vendored here.',
    missing.length ? `\nNot installed here, so not measured: ${missing.join('; ')} (scripts/install-bench-deps.sh).` : '',
    '',
    ...tables,
    machineMarkdown(machine()),
  ].join('\n');
  writeFileSync(join(RESULTS, 'process.md'), md + '\n');
  console.log(md);
  return md;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
