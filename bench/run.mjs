// `npm run bench`: runs every benchmark module in bench/ (each bench/*.mjs exporting run(): the
// sampler cost, and serialize / fanout when present), one after the other, each in its own child
// process so one failure does not stop the rest, then writes bench/RESULTS.md, an index of
// bench/results/*.md with the machine described.
//
//   node bench/run.mjs [--quick] [--only name[,name...]]
//
// --quick: a short smoke run (few rounds; the numbers are rough). BENCH_TIMEOUT_S (default 900)
// bounds each module.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { BENCH, RESULTS, fmt, machine, machineMarkdown } from './lib/common.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((argv[onlyArg + 1] ?? '').split(',').filter(Boolean)) : null;
const timeoutS = Number(process.env.BENCH_TIMEOUT_S) || 900;

// The known modules first, in this order, then any other bench/*.mjs.
const ORDER = ['sampler', 'serialize', 'fanout', 'collector'];
const found = readdirSync(BENCH)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => basename(f, '.mjs'));
const modules = [...ORDER.filter((n) => found.includes(n)), ...found.filter((n) => !ORDER.includes(n)).sort()]
  .filter((n) => !only || only.has(n));

function runModule(name) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // --expose-gc: modules that measure retained heap call global.gc().
    const args = ['--expose-gc', join(BENCH, 'lib', 'child.mjs'), join(BENCH, `${name}.mjs`), ...(quick ? ['--quick'] : [])];
    // Its own process group, so a timeout ends the module and everything it started.
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'], detached: true });
    let errTail = '';
    p.stderr.on('data', (d) => {
      process.stderr.write(d);
      errTail = (errTail + d).slice(-4000);
    });
    const timer = setTimeout(() => {
      errTail += `\nbench: ${name} timed out after ${timeoutS} s`;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {}
    }, timeoutS * 1000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const status = code === 0 ? 'ok' : code === 3 ? 'skipped (no run() export)' : `failed (${signal ?? `exit ${code}`})`;
      resolve({ name, status, secs: (Date.now() - t0) / 1000, errTail: code === 0 ? '' : errTail, started: t0 });
    });
  });
}

const m = machine();
const t0 = Date.now();
console.error(`bench: ${modules.length ? modules.join(', ') : 'no modules found'}${quick ? ' (--quick)' : ''}`);
const results = [];
for (const name of modules) {
  console.error(`\nbench: ── ${name} ──`);
  results.push(await runModule(name));
}
m.loadavgEnd = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim();

const L = ['# hostseries benchmark results', ''];
L.push(`Produced by \`npm run bench${quick ? ' -- --quick' : ''}\` (\`node bench/run.mjs\`) on ${m.date}, ${fmt((Date.now() - t0) / 1000, 0)} s in all.` +
  (quick ? ' **Quick smoke run: few rounds, the numbers are rough.**' : ''), '');
L.push('Each module runs in its own process, one after the other; its full results (tables, method, the command) are linked.', '');
L.push('## Machine', '', machineMarkdown(m), '');
L.push('## Modules', '', '| module | status | time | results |', '|---|---|---:|---|');
for (const r of results) {
  const file = join(RESULTS, `${r.name}.md`);
  let link = 'none';
  if (existsSync(file)) {
    const stale = statSync(file).mtimeMs < r.started;
    link = `[results/${r.name}.md](results/${r.name}.md)${stale ? ' (from an earlier run)' : ''}`;
  }
  L.push(`| ${r.name} | ${r.status} | ${fmt(r.secs, 0)} s | ${link} |`);
}
const others = readdirSync(RESULTS)
  .filter((f) => f.endsWith('.md') && !results.some((r) => `${r.name}.md` === f))
  .sort();
for (const f of others) L.push(`| ${basename(f, '.md')} | not run this time | | [results/${f}](results/${f}) (from an earlier run) |`);
// Each module's headline tables (between <!-- headline --> markers), so the figures are here too.
for (const f of readdirSync(RESULTS).filter((x) => x.endsWith('.md')).sort()) {
  const text = readFileSync(join(RESULTS, f), 'utf8');
  const parts = [];
  let heading = '';
  let table;
  for (const line of text.split('\n')) {
    if (line === '<!-- headline -->') table = [];
    else if (line === '<!-- /headline -->' && table) {
      parts.push([heading, table.join('\n')]);
      table = undefined;
    } else if (table) table.push(line);
    else if (line.startsWith('#')) heading = line.replace(/^#+ /, '');
  }
  if (parts.length === 0) continue;
  L.push('', `## ${basename(f, '.md')}: headline (from [results/${f}](results/${f}))`);
  for (const [h, t] of parts) L.push('', `**${h}**`, '', t);
}
const failed = results.filter((r) => r.errTail);
for (const r of failed) {
  L.push('', `### ${r.name}: ${r.status}`, '', '```', r.errTail.trim().split('\n').slice(-25).join('\n'), '```');
}
L.push('');
writeFileSync(join(BENCH, 'RESULTS.md'), L.join('\n'));
console.log('\n' + L.join('\n'));
process.exit(failed.some((r) => r.status.startsWith('failed')) ? 1 : 0);
