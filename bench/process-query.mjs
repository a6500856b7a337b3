// Watched processes in memory (issue 13): an hour of 10 watched processes at 5 s is 720 samples;
// how long `aggregate('processes.<key>.cpu_pct', { lastSeconds: 3600 })` and `history()` take over
// them, and what the hour costs in memory (the native series, every host metric included, plus
// the processes). The 720 samples are taken at 10 ms from 10 real processes (two of them busy,
// so their values change every sample): the query and the memory depend on the samples, not on
// the time between them (the busy two are stopped, SIGSTOP, before the queries). Targets: a query in ≤ 10 ms, the hour in ≤ 5 MB.
// Run: node --expose-gc bench/process-query.mjs [--quick]   (after `npm run build`)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { fmt, median } from './lib/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { TimeSeriesCollector } = require(join(here, '..', 'dist', 'index.js'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SAMPLES = 720;
const PROCESSES = 10;

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  const kids = [];
  for (let i = 0; i < PROCESSES; i++) {
    const busy = i < 2;
    kids.push(spawn('sh', ['-c', busy ? 'while :; do :; done' : 'sleep 600'], { stdio: 'ignore', detached: true }));
  }
  try {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.01, maxSamples: SAMPLES, overflow: 'rolling', historySeconds: 3600, watch: kids });
    await c.start();
    while (c.sampleCount < SAMPLES + 5) await sleep(100);
    const keys = c.current().processes.map((p) => p.key);
    // The busy ones made the values change; stopped now, they leave the CPUs to the queries.
    for (const k of kids.slice(0, 2)) process.kill(-k.pid, 'SIGSTOP');
    const rounds = quick ? 5 : 30;
    const agg = [];
    const hist = [];
    for (let r = 0; r < rounds; r++) {
      const key = keys[r % keys.length];
      let t = performance.now();
      const a = c.aggregate(`processes.${key}.cpu_pct`, { lastSeconds: 3600 });
      agg.push(performance.now() - t);
      if (a.count < SAMPLES - 10) throw new Error(`aggregate saw ${a.count} samples`);
      t = performance.now();
      const h = c.history({ lastSeconds: 3600 });
      hist.push(performance.now() - t);
      if (h.length < SAMPLES - 10) throw new Error(`history gave ${h.length} samples`);
    }
    const counts = c.native.counts();
    await c.stop();
    const perSample = counts.retainedBytes / counts.retained;
    const hourMB = (perSample * SAMPLES) / 1e6;
    const md = [
      '# Watched processes: an hour in memory, and queries over it',
      '',
      `Command: \`node --expose-gc bench/process-query.mjs${quick ? ' --quick' : ''}\` (after \`npm run build\`), ${new Date().toISOString()}.`,
      '',
      `${SAMPLES} samples (an hour at 5 s) of every host metric and ${PROCESSES} watched processes (two busy), taken at 10 ms; ${rounds} queries each, medians.`,
      '',
      '<!-- headline -->',
      '| | measured | target |',
      '|---|---:|---:|',
      `| \`aggregate('processes.<key>.cpu_pct', { lastSeconds: 3600 })\` | ${fmt(median(agg), 2)} ms | ≤ 10 ms |`,
      `| \`history({ lastSeconds: 3600 })\` (every sample as objects) | ${fmt(median(hist), 2)} ms | |`,
      `| memory for the hour (native series: ${fmt(perSample, 0)} B a sample × ${SAMPLES}) | ${fmt(hourMB, 2)} MB | ≤ 5 MB |`,
      '<!-- /headline -->',
      '',
      `Slowest aggregate: ${fmt(Math.max(...agg), 2)} ms (the first decodes cold).`,
      '',
    ].join('\n');
    console.log(md);
    return md;
  } finally {
    for (const k of kids) {
      try {
        process.kill(-k.pid, 'SIGKILL');
      } catch {}
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
