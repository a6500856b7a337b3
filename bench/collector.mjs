// Collector benchmark (issue 4): bytes retained per sample in the compact store (native since
// issue 12: the series' own allocation, `counts().retainedBytes`, plus any JS heap the collector
// holds) vs the same samples as plain objects, and JS main-thread time per sample at 10 Hz and
// 100 Hz.
// Run: node --expose-gc bench/collector.mjs [--quick]   (after `npm run build`)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { TimeSeriesCollector } = require(join(here, '..', 'dist', 'index.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** After full GCs, with turns of the loop between them so finalizers run too. */
async function retained() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await sleep(20);
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** CPU time of the JS main thread alone (ns), from the scheduler's own accounting. */
function mainThreadNs() {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

async function memory(count) {
  const before = await retained();
  const c = new TimeSeriesCollector({ intervalSeconds: 0.01, maxSamples: count, logger: { warn() {} } });
  await c.start();
  while (c.sampleCount < count) await sleep(100);
  await c.stop();
  // The collector's private native sampler (a bench may look; the API does not expose it).
  const native = c.native.counts().retainedBytes;
  const compact = (await retained()) - before + native;
  const kept = c.toTimeSeriesData().samplesByHost.get(c.hostname).length;
  // The same samples as objects (what a plain-object collector would keep).
  const objects = c.samples;
  const withObjects = (await retained()) - before + native;
  const perSampleCompact = compact / kept;
  const perSampleObjects = (withObjects - compact) / objects.length;
  return { kept, perSampleCompact, perSampleObjects, hold: [c, objects] };
}

/** Main-thread CPU per sample: collector running vs not, alternated; `listen` builds objects. */
async function mainThread(hz, seconds, rounds, listen) {
  const results = [];
  for (let r = 0; r < rounds; r++) {
    for (const withCollector of [false, true]) {
      const c = withCollector ? new TimeSeriesCollector({ intervalSeconds: 1 / hz, maxSamples: 100_000 }) : undefined;
      if (c && listen) c.on('sample', () => {});
      const t0 = mainThreadNs();
      await c?.start();
      await sleep(seconds * 1000);
      const samples = c?.sampleCount ?? 0; // drains what waits natively: counted in the time
      const ns = mainThreadNs() - t0;
      await c?.stop();
      results.push({ withCollector, ns, samples });
    }
  }
  const off = median(results.filter((x) => !x.withCollector).map((x) => x.ns));
  const on = results.filter((x) => x.withCollector);
  return {
    hz,
    listen,
    perSampleUs: median(on.map((x) => (x.ns - off) / x.samples)) / 1000,
    samples: median(on.map((x) => x.samples)),
    share: median(on.map((x) => (x.ns - off) / (seconds * 1e9))) * 100,
  };
}

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const count = quick ? 1000 : 10_000;
  const mem = await memory(count);
  const secs = quick ? 2 : 10;
  const rounds = quick ? 1 : 3;
  const times = [];
  for (const hz of [10, 100]) for (const listen of [false, true]) times.push(await mainThread(hz, secs, rounds, listen));
  const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;
  const md = [
    '# Collector: memory and main-thread time',
    '',
    `Command: \`node --expose-gc bench/collector.mjs${quick ? ' --quick' : ''}\` (after \`npm run build\`), ${new Date().toISOString()}.`,
    '',
    `Memory after ${mem.kept} samples of every metric of this host (the native series' allocation plus heapUsed + arrayBuffers after GC, per sample):`,
    '',
    '| store | retained per sample | target |',
    '|---|---|---|',
    `| TimeSeriesCollector (compact: changed-value bitmap + varint deltas) | ${kib(mem.perSampleCompact)} | ≤ 1 KiB |`,
    `| the same samples as TimeSeriesSample objects | ${kib(mem.perSampleObjects)} | (reference) |`,
    `| ratio objects / compact | ${(mem.perSampleObjects / mem.perSampleCompact).toFixed(1)}× | |`,
    '',
    `JS main-thread CPU time per sample (the main thread's own schedstat), collector minus no collector, median of ${rounds} alternated rounds of ${secs} s:`,
    '',
    '| rate | consumer | samples per round | main-thread CPU per sample | share of one core |',
    '|---|---|---|---|---|',
    ...times.map((t) => `| ${t.hz} Hz | ${t.listen ? "a 'sample' listener (objects built per tick)" : 'none (kept compact until asked)'} | ${t.samples} | ${t.perSampleUs.toFixed(1)} µs | ${t.share.toFixed(2)}% |`),
    '',
  ].join('\n');
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'collector.md'), md);
  console.log(md);
  void mem.hold;
  return md;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().catch((e) => { console.error(e); process.exit(1); });
}
