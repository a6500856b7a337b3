// Shared helpers for the benchmarks: paths, statistics, CPU clocks, the machine description, and
// building the native helper programs (floor, spin, the Rust example) at bench time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH, '..');
export const RESULTS = join(BENCH, 'results');
export const BUILD = join(BENCH, '.build');

export class BenchError extends Error {}

// ---------------------------------------------------------------------------------------------
// statistics

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);
export const mean = (xs) => sum(xs) / xs.length;

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (xs) => quantile(xs, 0.5);
export const min = (xs) => Math.min(...xs);
export const max = (xs) => Math.max(...xs);

/** Format a number with a fixed count of significant-ish decimals. */
export function fmt(x, digits = 1) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const pct = (x, digits = 2) => `${x >= 0 ? '+' : ''}${fmt(x * 100, digits)}%`;

// ---------------------------------------------------------------------------------------------
// CPU clocks of this process

/** user+sys of this process in ns (all threads), with µs resolution. */
export function processCpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

const CLK_TCK = 100;

/** utime, stime, cutime, cstime of this process in ns (clock-tick resolution). */
export function procSelfStat() {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  const t = (i) => (Number(f[i]) * 1e9) / CLK_TCK;
  // fields after "pid (comm) ": state=0, utime=11, stime=12, cutime=13, cstime=14
  return { utime: t(11), stime: t(12), cutime: t(13), cstime: t(14) };
}

/** Threads of this process: tid, comm and on-CPU time in ns (schedstat, ns resolution). */
export function threads() {
  const out = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const ss = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ');
      const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.push({
        tid: Number(tid),
        comm,
        runNs: Number(ss[0]),
        ticksNs: ((Number(f[11]) + Number(f[12])) * 1e9) / CLK_TCK,
      });
    } catch {
      // the thread ended while we looked
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the machine

/** The aggregate `cpu` line of /proc/stat (jiffies). */
export function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq, steal: steal ?? 0, total: f.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/** How busy the whole machine was between two cpuTimes() readings (everything, ours included). */
export function conditions(a, b) {
  const total = b.total - a.total || 1;
  return {
    busy: (b.busy - a.busy) / total,
    steal: (b.steal - a.steal) / total,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

export function conditionsText(c, ours) {
  return `Machine during this section: ${fmt(c.busy * 100, 0)}% of all CPUs busy${ours ? ` (${ours})` : ''}, ` +
    `${fmt(c.steal * 100, 1)}% stolen by the hypervisor, load average ${c.loadavg} at its end.`;
}

function cmdOut(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  let hypervisor = null;
  const lscpu = cmdOut('lscpu', []);
  if (lscpu) {
    const m = /^Model name:\s*(.+)$/m.exec(lscpu);
    if (m) model = m[1];
    const h = /^Hypervisor vendor:\s*(.+)$/m.exec(lscpu);
    if (h) hypervisor = h[1];
  }
  let memGiB = null;
  try {
    const kb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]);
    memGiB = kb / 1024 / 1024;
  } catch {}
  return {
    nproc: Number(cmdOut('nproc', [])) || cpus().length,
    cpuModel: model,
    hypervisor,
    memGiB,
    kernel: cmdOut('uname', ['-r']) ?? release(),
    node: process.version,
    rustc: cmdOut('rustc', ['--version']),
    gcc: cmdOut('gcc', ['--version'])?.split('\n')[0] ?? null,
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    date: new Date().toISOString(),
  };
}

export function machineMarkdown(m) {
  const rows = [
    ['CPUs (`nproc`)', m.nproc],
    ['CPU model', m.cpuModel + (m.hypervisor ? ` (virtualised: ${m.hypervisor})` : '')],
    ['memory', m.memGiB ? `${fmt(m.memGiB, 1)} GiB` : 'n/a'],
    ['kernel', m.kernel],
    ['node', m.node],
    ['rustc', m.rustc ?? 'not found'],
    ['gcc', m.gcc ?? 'not found'],
    ['load average at start', `\`${m.loadavg}\``],
    ...(m.loadavgEnd ? [['load average at end', `\`${m.loadavgEnd}\``]] : []),
    ['date', m.date],
  ];
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// building the helpers

const newer = (src, out) => existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs;

/** Compile bench/<name>.c with gcc -O2 into bench/.build/<name> (skipped when up to date). */
export function buildC(name) {
  const src = join(BENCH, `${name}.c`);
  const out = join(BUILD, name);
  if (newer(src, out)) return out;
  const cc = process.env.CC || 'gcc';
  if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new BenchError(
      `bench: the C compiler "${cc}" was not found; it builds bench/${name}.c at bench time. ` +
        'Install gcc (Debian/Ubuntu: apt-get install -y gcc) or set CC.',
    );
  }
  mkdirSync(BUILD, { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError(`bench: compiling bench/${name}.c failed:\n${r.stderr}`);
  return out;
}

/** Build a crates/core example in release mode; returns the binary's path. */
export function buildRustExample(name) {
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new BenchError(
      `bench: cargo was not found; it builds the Rust example crates/core/examples/${name}.rs at bench time. ` +
        'Install Rust from https://rustup.rs.',
    );
  }
  const r = spawnSync(
    'cargo',
    ['build', '--release', '--quiet', '-p', 'hostseries-core', '--example', name, '--message-format', 'json'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new BenchError(`bench: cargo build of example ${name} failed:\n${r.stderr}`);
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === name && msg.executable) return msg.executable;
  }
  throw new BenchError(`bench: cargo built example ${name} but did not say where`);
}

/** The built addon through the TypeScript layer (dist/), or a clear error. */
export function nativeModulePath() {
  const p = join(ROOT, 'dist', 'native', 'sampler.js');
  if (!existsSync(p)) {
    throw new BenchError('bench: dist/native/sampler.js is missing; run `npm ci` (or `npm run build`) first');
  }
  return p;
}

/** Run a program that prints one JSON line; parse it. */
export function runJson(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, ...opts });
  if (r.error) throw new BenchError(`bench: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BenchError(`bench: ${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
  }
  const line = r.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    throw new BenchError(`bench: ${cmd} ${args.join(' ')} printed no JSON:\n${r.stdout}\n${r.stderr}`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
