// The report model's Node-side build (buildReportModel), side by side for two builds of the
// package: e.g. this tree's dist/ and one of an older commit (`git worktree add /tmp/old <commit>`,
// `npm run build:ts` there). Each round runs each build in its own process (the same synthetic
// hosts as bench/report.mjs: a real recording of this host taken once, N hosts × S seconds at 1 s),
// interleaved A, B, A, B…; prints wall and CPU ms, GC ms (minor/major) and the load average of each,
// then the medians; with two builds, writes bench/results/report-build.md.
// Run: node bench/report-build.mjs [--hosts 64] [--seconds 3600] [--rounds 3] [--labels before,after] DIST_A [DIST_B]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize, template } from './report.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** In its own process: synthesize, build once with `dist`, print the figures as JSON. */
async function child(dist, templateFile, hosts, seconds) {
  const require = createRequire(import.meta.url);
  const data = synthesize(JSON.parse(readFileSync(templateFile, 'utf8')), hosts, seconds);
  const { buildReportModel } = require(join(dist, 'report', 'build.js'));
  const gc = { minor: 0, major: 0 };
  let on = false;
  const obs = new PerformanceObserver((l) => {
    if (on) for (const e of l.getEntries()) gc[e.detail?.kind === 1 ? 'minor' : 'major'] += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 50));
  on = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  buildReportModel([{ file: 'synthetic.json', data }]);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  process.stdout.write(JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, gcMinorMs: gc.minor, gcMajorMs: gc.major }) + '\n');
}

async function main(argv) {
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i < 0 ? dflt : Number(argv.splice(i, 2)[1]);
  };
  const hosts = opt('--hosts', 64);
  const seconds = opt('--seconds', 3600);
  const rounds = opt('--rounds', 3);
  const li = argv.indexOf('--labels');
  const labels = li < 0 ? undefined : argv.splice(li, 2)[1].split(',');
  const dists = argv.map((d) => resolve(d));
  if (dists.length === 0) throw new Error('usage: node bench/report-build.mjs [--hosts N] [--seconds S] [--rounds R] DIST_A [DIST_B]');
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-report-build-'));
  try {
    const templateFile = join(dir, 'template.json');
    writeFileSync(templateFile, JSON.stringify(await template(24)));
    const runs = new Map(dists.map((d) => [d, []]));
    for (let r = 0; r < rounds; r++) {
      for (const d of dists) {
        const load = loadavg()[0];
        const c = spawnSync(process.execPath, ['--max-old-space-size=12288', fileURLToPath(import.meta.url), '--child', d, templateFile, String(hosts), String(seconds)], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (c.status !== 0) throw new Error(`the build with ${d} failed:\n${c.stderr}`);
        const m = { ...JSON.parse(c.stdout.trim().split('\n').pop()), load };
        runs.get(d).push(m);
        console.log(`round ${r + 1} ${d}: wall ${m.wallMs.toFixed(0)} ms, cpu ${m.cpuMs.toFixed(0)} ms, gc ${m.gcMinorMs.toFixed(0)}+${m.gcMajorMs.toFixed(0)} ms, load ${load.toFixed(2)}`);
      }
    }
    for (const [d, ms] of runs) {
      console.log(`median ${d}: wall ${median(ms.map((m) => m.wallMs)).toFixed(0)} ms, cpu ${median(ms.map((m) => m.cpuMs)).toFixed(0)} ms (${hosts} × ${seconds} = ${(hosts * seconds).toLocaleString('en-US')} host-samples)`);
    }
    if (dists.length === 2) writeResults(dists.map((d, i) => ({ label: labels?.[i] ?? d, ms: runs.get(d) })), hosts, seconds, rounds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeResults(builds, hosts, seconds, rounds) {
  const med = (b, k) => median(b.ms.map((m) => m[k]));
  const [a, b] = builds;
  const row = (x) => `| ${x.label} | ${med(x, 'wallMs').toFixed(0)} ms | ${med(x, 'cpuMs').toFixed(0)} ms | ${(1e3 * med(x, 'cpuMs') / (hosts * seconds)).toFixed(1)} µs | ${med(x, 'gcMinorMs').toFixed(0)} + ${med(x, 'gcMajorMs').toFixed(0)} ms | ${x.ms.map((m) => (m.wallMs / 1000).toFixed(1)).join(', ')} s | ${x.ms.map((m) => m.load.toFixed(1)).join(', ')} |`;
  const md = [
    '# report: the model\'s build in Node, side by side',
    '',
    `\`node bench/report-build.mjs --hosts ${hosts} --seconds ${seconds} --rounds ${rounds} --labels ${a.label},${b.label} A B\`, ${new Date().toISOString().slice(0, 10)}: buildReportModel on ${hosts} hosts × ${seconds} s at 1 s (${(hosts * seconds).toLocaleString('en-US')} host-samples, synthesized as in bench/report.mjs), each round each build in its own process, interleaved; medians of ${rounds} rounds. CPU is user + system of the process during the build; GC is minor + major pause time. The machine (2 cores) was shared: its 1-minute load average is given per round.`,
    '',
    '| build | wall | CPU | CPU per host-sample | GC | wall per round | load per round |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row(a),
    row(b),
    '',
    `${b.label} / ${a.label}: wall ${(med(a, 'wallMs') / med(b, 'wallMs')).toFixed(1)}× faster, CPU ${(med(a, 'cpuMs') / med(b, 'cpuMs')).toFixed(1)}× less.`,
    '',
  ].join('\n');
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'results', 'report-build.md'), md);
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], Number(process.argv[5]), Number(process.argv[6]));
else await main(process.argv.slice(2));
