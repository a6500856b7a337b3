// Runs one bench module in its own process for bench/run.mjs:
//   node bench/lib/child.mjs <module.mjs> [--quick]
// The module exports `run(options)`; options are { quick, resultsDir }. It may write
// bench/results/<name>.md itself; if it returns markdown (a string, or { markdown }) and did not,
// this writes it. Exit codes: 0 ok, 1 the module failed, 3 the module has no run() export.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { RESULTS } from './common.mjs';

const [file, ...rest] = process.argv.slice(2);
const quick = rest.includes('--quick');
const name = basename(file, '.mjs');
const started = Date.now();

try {
  const mod = await import(pathToFileURL(resolve(file)).href);
  if (typeof mod.run !== 'function') {
    console.error(`bench: ${file} does not export run(); skipped`);
    process.exit(3);
  }
  mkdirSync(RESULTS, { recursive: true });
  const res = await mod.run({ quick, resultsDir: RESULTS });
  const md = typeof res === 'string' ? res : res?.markdown;
  const out = join(RESULTS, `${name}.md`);
  const fresh = existsSync(out) && statSync(out).mtimeMs >= started;
  if (md && !fresh) writeFileSync(out, md.endsWith('\n') ? md : md + '\n');
  // Bench modules may leave handles (servers, timers) behind; the run is over.
  process.exit(0);
} catch (e) {
  // A BenchError is a message for the user (a missing compiler, an unbuilt package): no stack.
  console.error(`bench: ${name} failed: ${e?.constructor?.name === 'BenchError' ? e.message : (e?.stack ?? e)}`);
  process.exit(1);
}
