// `hostseries agent` benchmark (issue 14): the agent's whole-process CPU per sample and RSS at 10 s
// and 1 s intervals, read from outside (/proc/PID/stat utime + stime over a window after a warm-up),
// beside `hostseries record` at the same intervals (the same native sampler, its stream written by
// the native writer: no JS per sample) run at the same time; and the push payload, bytes per sample
// gzipped, for pushes of 1, 10 and 100 samples (what 10 s, 1 s and 0.1 s sampling push every 10 s).
// Run: node bench/agent.mjs [--quick]   (after `npm run build`)
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { TimeSeriesCollector, stringifySample } = require(join(here, '..', 'dist', 'index.js'));

const MAIN = join(here, '..', 'dist', 'cli', 'main.js');
const TOKEN = 'bench-token-0123456789abcdef';
const quick = process.argv.includes('--quick');
const WARMUP_S = 5;
const WINDOW_S = quick ? 20 : 120;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(args, env = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, HOSTSERIES_TOKEN: TOKEN, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (err += s));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, exited, stderr: () => err };
}

async function startServe(data) {
  const s = run(['serve', '--listen', '127.0.0.1:0', '--data', data]);
  for (let i = 0; i < 400; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(s.stderr());
    if (m) return { ...s, url: m[1] };
    await sleep(50);
  }
  s.child.kill('SIGKILL');
  throw new Error(`serve did not start: ${s.stderr()}`);
}

/**
 * CPU time of a process in seconds, every thread: the sum of each /proc/PID/task/TID/schedstat (ns, where
 * utime + stime count 10 ms ticks); a thread that ended within the window is missed, so utime +
 * stime from /proc/PID/stat is taken instead when it is the larger.
 */
function cpuSeconds(pid) {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch { /* the thread ended */ }
    }
  } catch { /* no schedstat */ }
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { sched: ns / 1e9, ticks: (Number(f[11]) + Number(f[12])) / 100 };
}

function memKiB(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const v = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1]);
  return { rss: v('VmRSS'), hwm: v('VmHWM') };
}

async function hostSamples(url, host) {
  const r = await fetch(`${url}/api/v1/hosts/${host}`);
  return r.status === 200 ? (await r.json()).samples : 0;
}

const dir = mkdtempSync(join(tmpdir(), 'hostseries-bench-agent-'));
const server = await startServe(join(dir, 'data'));
const subjects = [
  { name: 'agent -i 10 (push every 10 s)', interval: 10, args: (h) => ['agent', '--server', server.url, '-i', '10', '--push-interval', '10', '--hostname', h, '--queue-dir', join(dir, `q-${h}`)] },
  { name: 'agent -i 1 (push every 10 s)', interval: 1, args: (h) => ['agent', '--server', server.url, '-i', '1', '--push-interval', '10', '--hostname', h, '--queue-dir', join(dir, `q-${h}`)] },
  { name: 'agent -i 1 --push-interval 1', interval: 1, args: (h) => ['agent', '--server', server.url, '-i', '1', '--push-interval', '1', '--hostname', h, '--queue-dir', join(dir, `q-${h}`)] },
  { name: 'record -i 10 (reference: no push, native writer)', interval: 10, args: (h) => ['record', '-i', '10', '-d', String(WARMUP_S + WINDOW_S + 30), '-q', '-o', join(dir, `${h}.json`)] },
  { name: 'record -i 1 (reference)', interval: 1, args: (h) => ['record', '-i', '1', '-d', String(WARMUP_S + WINDOW_S + 30), '-q', '-o', join(dir, `${h}.json`)] },
];
const procs = subjects.map((s, i) => ({ ...s, host: `bench-${i}`, p: run(s.args(`bench-${i}`)) }));
await sleep(WARMUP_S * 1000);
const t0 = process.hrtime.bigint();
const before = procs.map((x) => cpuSeconds(x.p.child.pid));
const stored0 = await Promise.all(procs.map((x) => hostSamples(server.url, x.host)));
await sleep(WINDOW_S * 1000);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const after = procs.map((x) => cpuSeconds(x.p.child.pid));
const mem = procs.map((x) => memKiB(x.p.child.pid));
const stored1 = await Promise.all(procs.map((x) => hostSamples(server.url, x.host)));
for (const x of procs) x.p.child.kill('SIGTERM');
await Promise.all(procs.map((x) => x.p.exited));
const serverCpu = cpuSeconds(server.child.pid).sched;
server.child.kill('SIGTERM');
await server.exited;

// Payload: real samples of this host, pushed n at a time (the sink's own encoding: one sample dict a line, gzip level 6).
const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
await c.start();
while (c.sampleCount < 200) await sleep(50);
const lines = (await c.stop()).slice(0, 200).map((s) => stringifySample(s.toDict()) + '\n');
const payload = [1, 10, 100].map((n) => {
  let raw = 0;
  let gz = 0;
  let pushes = 0;
  for (let i = 0; i + n <= lines.length; i += n) {
    const body = Buffer.from(lines.slice(i, i + n).join(''));
    raw += body.length;
    gz += gzipSync(body).length;
    pushes++;
  }
  return { n, raw: raw / (pushes * n), gz: gz / (pushes * n) };
});
rmSync(dir, { recursive: true, force: true });

const rows = procs.map((x, i) => {
  const cpu = after[i].sched - before[i].sched;
  const ticks = after[i].ticks - before[i].ticks;
  const samples = wall / x.interval;
  return `| ${x.name} | ${(cpu / wall * 100).toFixed(3)}% | ${(cpu / samples * 1e3).toFixed(2)} ms | ${(ticks / samples * 1e3).toFixed(1)} ms | ${(mem[i].rss / 1024).toFixed(1)} MiB | ${(mem[i].hwm / 1024).toFixed(1)} MiB | ${x.name.startsWith('agent') ? stored1[i] - stored0[i] : '–'} |`;
});
const md = `# agent: CPU per sample, memory, push payload

Command: \`node bench/agent.mjs${quick ? ' --quick' : ''}\` (after \`npm run build\`), ${new Date().toISOString()}.

Each process's CPU time (all its threads: the sum of /proc/PID/task/TID/schedstat, in ns; utime + stime
from /proc/PID/stat, in 10 ms ticks, beside it) over a ${WINDOW_S} s window
after ${WARMUP_S} s of warm-up, all run at the same time against one \`hostseries serve\` on 127.0.0.1 (its
own CPU not counted; ${serverCpu.toFixed(2)} s in all). CPU per sample = CPU / (window / interval).
The \`record\` rows are the same native sampler without the push (its stream appended by the native
writer thread, no JS per sample): the difference is what the agent's JS costs (decode, JSON,
queue append, gzip, HTTP).

| process | CPU (of one core) | CPU per sample (schedstat) | per sample (utime+stime) | RSS at end | peak RSS | samples the server got in the window |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Push payload (real samples of this host, every metric; gzip level 6 of JSON Lines, as the agent sends):

| samples per push | bytes per sample as JSON | bytes per sample gzipped |
|---|---|---|
${payload.map((p) => `| ${p.n} | ${Math.round(p.raw)} | ${Math.round(p.gz)} |`).join('\n')}
`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'agent.md'), md);
process.stdout.write(md);
