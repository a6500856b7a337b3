// Child-process side of bench/sampler.mjs: each measurement runs in a fresh Node process and
// prints one JSON line.
//
//   node contender.mjs js N                    plain-JS reader, N samples back to back
//   node contender.mjs si N                    systeminformation, N samples back to back
//   node contender.mjs node-sampler HZ SECS on|off
//                                              NativeSampler at HZ draining in onSample (on) or
//                                              no sampler (off); process CPU, sampler-thread CPU,
//                                              event-loop delay
//   node contender.mjs perturb-driver HZ T0_NS PHASE_NS GUARD_NS SCHEDULE
//                                              toggles a TimeSeriesCollector at HZ per phase of
//                                              SCHEDULE ("0110..."), phases start at T0
//                                              (CLOCK_MONOTONIC, as the workers')
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nativeModulePath, processCpuNs, procSelfStat, sleep, threads } from './common.mjs';
import { readSample } from './jsreader.mjs';

const require = createRequire(import.meta.url);
const [mode, ...args] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
// Keeps results reachable so no engine can drop the work as dead code.
const sink = [];
const keep = (x) => {
  sink.push(x);
  if (sink.length > 16) sink.length = 0;
};

/** CPU of N back-to-back calls of `sample` (after a warm-up), own threads + waited children. */
async function timeLoop(n, warm, sample) {
  for (let i = 0; i < warm; i++) keep(await sample());
  const s0 = procSelfStat();
  const c0 = processCpuNs();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) keep(await sample());
  const c1 = processCpuNs();
  const w1 = process.hrtime.bigint();
  const s1 = procSelfStat();
  const children = s1.cutime + s1.cstime - (s0.cutime + s0.cstime);
  return { iters: n, cpu_ns: c1 - c0 + children, self_cpu_ns: c1 - c0, children_cpu_ns: children, wall_ns: Number(w1 - w0) };
}

async function jsMode(n) {
  out(await timeLoop(n, Math.max(50, n / 10), () => readSample()));
}

async function siMode(n) {
  const si = require('systeminformation');
  // systeminformation serves disksIO / networkStats / currentLoad from a cache when called again
  // within 200-500 ms (Date.now() based). A sampler wants a fresh reading each tick, so each
  // sample moves the clock it sees by one second: every call does its real work.
  const realNow = Date.now;
  let skew = 0;
  Date.now = () => realNow() + skew;
  const sample = () => {
    skew += 1000;
    return Promise.all([si.disksIO(), si.networkStats('*'), si.mem(), si.currentLoad()]);
  };
  const r = await timeLoop(n, 3, sample);
  out({ ...r, version: require('systeminformation/package.json').version });
}

function samplerThread() {
  return threads().find((t) => t.comm.startsWith('hostseries-sam'));
}

async function nodeSamplerMode(hz, secs, on) {
  const { NativeSampler } = require(nativeModulePath());
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  let samples = 0;
  let sampler = null;
  if (on) {
    sampler = new NativeSampler({ intervalMs: 1000 / hz });
    sampler.start(() => {
      const b = sampler.drain();
      samples += b.samples.length;
      keep(b);
    });
  }
  await sleep(500); // warm-up: JIT, first layouts, thread start
  eld.reset();
  const th0 = on ? samplerThread() : null;
  const n0 = samples;
  const c0 = processCpuNs();
  const w0 = process.hrtime.bigint();
  await sleep(secs * 1000);
  const c1 = processCpuNs();
  const w1 = process.hrtime.bigint();
  const th1 = on ? samplerThread() : null;
  const n = samples - n0;
  eld.disable();
  let rest = null;
  if (sampler) rest = sampler.stop();
  out({
    on,
    hz,
    samples: n,
    process_cpu_ns: c1 - c0,
    wall_ns: Number(w1 - w0),
    thread: th0 && th1 ? { comm: th1.comm, run_ns: th1.runNs - th0.runNs, ticks_ns: th1.ticksNs - th0.ticksNs } : null,
    eld_ns: { p50: eld.percentile(50), p99: eld.percentile(99), max: eld.max, mean: eld.mean, count: eld.count },
    missed_ticks: rest?.missedTicks ?? null,
    dropped: rest?.dropped ?? null,
  });
}

async function perturbDriver(hz, t0, phaseNs, guardNs, schedule) {
  const { TimeSeriesCollector } = require(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js'));
  const now = () => process.hrtime.bigint();
  const until = async (t) => {
    const wait = Number(t - now()) / 1e6;
    if (wait > 0) await sleep(wait);
  };
  let collector = null;
  let samples = 0;
  let missed = 0;
  // This process's CPU and wall time in "on" and "off" phases, without the guard intervals at
  // the phase boundaries (where the collector is made, started and stopped), as the workers count.
  const acc = { on: { cpu: 0, wall: 0 }, off: { cpu: 0, wall: 0 } };
  // As a harness uses it: a TimeSeriesCollector with no live consumer, which lets the native
  // store fill and takes batches of samples into its compact store every few seconds.
  const startSampler = async () => {
    collector = new TimeSeriesCollector({ intervalSeconds: 1 / hz, maxSamples: 100_000 });
    await collector.start();
  };
  const stopSampler = async () => {
    if (!collector) return;
    const c = collector;
    collector = null;
    await c.stop();
    samples += c.sampleCount;
    missed += c.missedTicks;
  };
  for (let k = 0; k < schedule.length; k++) {
    const at = t0 + BigInt(k) * phaseNs;
    await until(at);
    const on = schedule[k] === '1';
    if (on && !collector) await startSampler();
    if (!on) await stopSampler();
    await until(at + guardNs);
    const c0 = processCpuNs();
    const w0 = now();
    await until(at + phaseNs - guardNs);
    const a = acc[on ? 'on' : 'off'];
    a.cpu += processCpuNs() - c0;
    a.wall += Number(now() - w0);
  }
  await until(t0 + BigInt(schedule.length) * phaseNs);
  await stopSampler();
  out({
    samples,
    missed_ticks: missed,
    cpu_per_s_on: acc.on.wall ? (acc.on.cpu / acc.on.wall) * 1e9 : null,
    cpu_per_s_off: acc.off.wall ? (acc.off.cpu / acc.off.wall) * 1e9 : null,
  });
}

try {
  if (mode === 'js') await jsMode(Number(args[0]));
  else if (mode === 'si') await siMode(Number(args[0]));
  else if (mode === 'node-sampler') await nodeSamplerMode(Number(args[0]), Number(args[1]), args[2] === 'on');
  else if (mode === 'perturb-driver') await perturbDriver(Number(args[0]), BigInt(args[1]), BigInt(args[2]), BigInt(args[3]), args[4]);
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  console.error(e?.stack ?? String(e));
  process.exit(1);
}
