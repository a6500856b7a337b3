// `hostseries export` on a big recording (issue 15): peak RSS of the whole process while it
// exports a ~200 MB JSON Lines stream (raw and --rates, long and --wide), beside `summary` on the
// same file (which holds every sample in memory) for scale. Writes bench/results/export.md.
//
//   node bench/export.mjs [--mb 200]        (after `npm run build:ts`; runs dist/cli/main.js)
//
// The stream is generated from a real sample of this host (sampleOnce), counters growing each
// second, one sample a line as `record` writes them. Peak RSS is the kernel's (`/usr/bin/time -v`,
// "Maximum resident set size", which is VmHWM of the process).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULTS, ROOT } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const { sampleOnce } = require(join(ROOT, 'dist', 'index.js'));
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const mbArg = process.argv.indexOf('--mb');
const TARGET_MB = mbArg > 0 ? Number(process.argv[mbArg + 1]) : 200;

const bump = (o, i, skip = []) => {
  for (const k of Object.keys(o)) if (typeof o[k] === 'number' && !skip.includes(k) && o[k] > 0) o[k] += i * ((k.length % 7) + 1);
};

async function generate(path) {
  const one = await sampleOnce();
  const base = JSON.parse(JSON.stringify(typeof one.toDict === "function" ? one.toDict() : one));
  const out = createWriteStream(path);
  const write = (s) => (out.write(s) ? Promise.resolve() : new Promise((r) => out.once('drain', r)));
  const t0 = Date.parse('2025-01-01T00:00:00Z') * 1e6;
  await write(JSON.stringify({ record: 'header', format: 'hostseries-jsonl', version: 1, collection_interval_seconds: 1.0, start_time: '2025-01-01T00:00:00Z', collection_method: 'local', hosts_requested: ['bench'] }) + '\n');
  let bytes = 0;
  let n = 0;
  while (bytes < TARGET_MB * 1e6) {
    const s = structuredClone(base);
    s.timestamp_ns = t0 + n * 1e9;
    s.timestamp = new Date(t0 / 1e6 + n * 1000).toISOString().slice(0, 19) + 'Z';
    for (const d of s.diskstats ?? []) bump(d, n, ['ios_in_progress']);
    for (const d of s.netdev ?? []) bump(d, n);
    if (s.stat) {
      bump(s.stat.cpu, n);
      for (const c of Object.values(s.stat.cpus)) bump(c, n);
    }
    bump(s.vmstat ?? {}, n);
    const line = JSON.stringify({ record: 'sample', host: 'bench', sample: s }) + '\n';
    bytes += line.length;
    n++;
    await write(line);
  }
  await write(JSON.stringify({ record: 'footer', end_time: new Date(t0 / 1e6 + n * 1000).toISOString().slice(0, 19) + 'Z', num_samples: n, hosts_collected: ['bench'] }) + '\n');
  await new Promise((r) => out.end(r));
  return n;
}

function measure(args, cwd) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, MAIN, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(r.stderr)[1];
  return { mib: kb / 1024, wall };
}

const dir = mkdtempSync(join(tmpdir(), 'hs-export-bench-'));
try {
  const file = join(dir, 'big.jsonl');
  const n = await generate(file);
  const size = statSync(file).size / 1e6;
  console.error(`[export] ${file}: ${n} samples, ${size.toFixed(1)} MB`);
  const cases = [
    ['export, csv long, raw', ['export', file, '-f', 'csv', '-o', join(dir, 'a.csv')]],
    ['export, csv long, --rates', ['export', file, '-f', 'csv', '--rates', '-o', join(dir, 'b.csv')]],
    ['export, csv --wide --rates', ['export', file, '-f', 'csv', '--wide', '--rates', '-o', join(dir, 'c.csv')]],
    ['export, openmetrics --rates', ['export', file, '-f', 'openmetrics', '--rates', '-o', join(dir, 'd.om')]],
    ['summary (reads every sample into memory; for scale)', ['summary', file]],
  ];
  const rows = [];
  for (const [what, args] of cases) {
    const m = measure(args, dir);
    const outFile = args[args.indexOf('-o') + 1];
    const outMb = args.includes('-o') ? (statSync(outFile).size / 1e6).toFixed(0) : '-';
    rows.push(`| ${what} | ${m.mib.toFixed(0)} | ${m.wall} | ${outMb} |`);
    console.error(`[export] ${what}: peak RSS ${m.mib.toFixed(0)} MiB, ${m.wall}`);
    if (args.includes('-o')) rmSync(outFile);
  }
  const md = `# export: peak memory on a big recording

\`node bench/export.mjs --mb ${TARGET_MB}\`, ${new Date().toISOString().slice(0, 10)}: a ${size.toFixed(0)} MB JSON Lines stream
(${n} samples of this host, one a second) exported by \`dist/cli/main.js\`; peak RSS of the whole
process from \`/usr/bin/time -v\`.

| run | peak RSS MiB | wall | output MB |
|---|---|---|---|
${rows.join('\n')}
`;
  writeFileSync(join(RESULTS, 'export.md'), md);
  console.log(md);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
