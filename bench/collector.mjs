// Collector benchmark (issue 4): heap bytes retained per sample in the compact store vs the
// same samples as plain objects, and JS main-thread time per sample at 10 Hz and 100 Hz.
// Run: node --expose-gc bench/collector.mjs [--quick]   (after `npm run build`)
import { writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { TimeSeriesCollector } = require(join(here, '..', 'dist', 'collector', 'local.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function retained() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function memory(count) {
  const before = retained();
  const c = new TimeSeriesCollector({ intervalSeconds: 0.01, maxSamples: count, logger: { warn() {} } });
  await c.start();
  while (c.sampleCount < count) await sleep(100);
  await c.stop();
  const compact = retained() - before;
  const kept = c.toTimeSeriesData().samplesByHost.get(c.hostname).length;
  // The same samples as objects (what a plain-object collector would keep).
  const objects = c.samples;
  const withObjects = retained() - before;
  const perSampleCompact = compact / kept;
  const perSampleObjects = (withObjects - compact) / objects.length;
  return { kept, perSampleCompact, perSampleObjects, hold: [c, objects] };
}

async function mainThread(hz, seconds, rounds) {
  const results = [];
  for (let r = 0; r < rounds; r++) {
    for (const withCollector of [false, true]) {
      const c = withCollector ? new TimeSeriesCollector({ intervalSeconds: 1 / hz, maxSamples: 100_000 }) : undefined;
      // A timer at the same rate stands in for the harness's own event-loop activity in both.
      const elu0 = performance.eventLoopUtilization();
      await c?.start();
      await sleep(seconds * 1000);
      await c?.stop();
      const elu = performance.eventLoopUtilization(elu0);
      results.push({ withCollector, activeMs: elu.active, samples: c?.sampleCount ?? 0 });
    }
  }
  const off = median(results.filter((x) => !x.withCollector).map((x) => x.activeMs));
  const on = results.filter((x) => x.withCollector);
  const perSample = median(on.map((x) => (x.activeMs - off) / x.samples)) * 1000;
  return { hz, off, on: median(on.map((x) => x.activeMs)), perSampleUs: perSample, samples: median(on.map((x) => x.samples)) };
}

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const count = quick ? 1000 : 10_000;
  const mem = await memory(count);
  const t10 = await mainThread(10, quick ? 2 : 10, quick ? 1 : 3);
  const t100 = await mainThread(100, quick ? 2 : 10, quick ? 1 : 3);
  const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;
  const md = [
    '# Collector: memory and main-thread time',
    '',
    `Command: \`node --expose-gc bench/collector.mjs${quick ? ' --quick' : ''}\` (after \`npm run build\`), ${new Date().toISOString()}.`,
    '',
    `Memory after ${mem.kept} samples of every metric of this host (heapUsed + arrayBuffers after GC, per sample):`,
    '',
    '| store | retained per sample | target |',
    '|---|---|---|',
    `| TimeSeriesCollector (compact: changed-value bitmap + varint deltas) | ${kib(mem.perSampleCompact)} | ≤ 1 KiB |`,
    `| the same samples as TimeSeriesSample objects | ${kib(mem.perSampleObjects)} | (reference) |`,
    `| ratio objects / compact | ${(mem.perSampleObjects / mem.perSampleCompact).toFixed(1)}× | |`,
    '',
    'JS main-thread (event loop active) time per sample, median of alternated rounds, collector minus idle:',
    '',
    '| rate | samples per round | main-thread time per sample |',
    '|---|---|---|',
    ...[t10, t100].map((t) => `| ${t.hz} Hz | ${t.samples} | ${t.perSampleUs.toFixed(1)} µs |`),
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
