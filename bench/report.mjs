// `hostseries report` benchmark (issue 16): a 64-host hour at 1 s (230,400 host-samples), made
// from a real recording of this host, written as one report page; then Debian's Chromium opens it
// from file:// (playwright-core, fresh page per round) and we read the page's own mark of its first
// chart drawn (performance.now() at the first uPlot draw, from navigation start), the overview
// done, and the Host view opened; plus the file's size and the Node-side build time.
// Target: first chart drawn ≤ 1 s.
// Run: node bench/report.mjs [--quick]   (after `npm run build`; needs /usr/bin/chromium)
//
// Synthesis: a real recording (0.25 s apart, dd writing in the background) gives the template
// samples; host h's sample k copies template k mod n with every counter advanced by the
// template's own delta times a factor in [0.6, 1.4) that varies per host and sample (so counters
// stay monotonic and each host differs), memory used perturbed, times shifted to a 1 s grid.
// meminfo and vmstat keep only the fields the report reads (MemTotal/MemAvailable/Cached/Buffers;
// pgpgin/pgpgout/pgfault/pgmajfault/pswpin/pswpout) to fit 230k samples in memory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ROOT = join(here, '..');
const CHROMIUM = '/usr/bin/chromium';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function template(count) {
  const { TimeSeriesCollector } = require(join(ROOT, 'dist', 'index.js'));
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-report-'));
  // Disk I/O while the template is taken, so the disk series are not flat.
  const io = spawn('sh', ['-c', `while :; do dd if=/dev/zero of=${dir}/io bs=1M count=8 oflag=direct conv=fsync 2>/dev/null; sleep 0.2; done`], { stdio: 'ignore', detached: true });
  try {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.25 });
    await c.start();
    while (c.sampleCount < count) await sleep(50);
    return (await c.stop()).slice(0, count).map((s) => s.toDict());
  } finally {
    process.kill(-io.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const VM_KEYS = ['pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'pswpin', 'pswpout'];
const MEM_KEYS = ['MemTotal', 'MemAvailable', 'Cached', 'Buffers'];
const GAUGES = new Set(['device_name', 'interface_name', 'ios_in_progress']);

/** Advances `prev`'s counters by the template's step from `a` to `b` times `f` (a fresh object). */
function advance(prev, a, b, f) {
  const out = {};
  for (const k of Object.keys(b)) {
    if (GAUGES.has(k) || typeof b[k] !== 'number') out[k] = b[k];
    else out[k] = prev[k] + Math.max(0, Math.round((b[k] - a[k]) * f));
  }
  return out;
}

function pick(o, keys) {
  const out = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** 64 hosts × 3600 samples at 1 s, as a TimeSeriesData. */
export function synthesize(base, hosts, seconds) {
  const { TimeSeriesData, TimeSeriesSample } = require(join(ROOT, 'dist', 'index.js'));
  const n = base.length;
  const startNs = Math.floor(Date.now() / 1000 - seconds - 60) * 1e9;
  const byHost = new Map();
  const noise = (h, k) => {
    const x = Math.sin(h * 12.9898 + k * 78.233) * 43758.5453;
    return 0.6 + 0.8 * (x - Math.floor(x));
  };
  for (let h = 0; h < hosts; h++) {
    const name = `node${String(h + 1).padStart(2, '0')}`;
    const samples = [];
    let disks = base[0].diskstats.map((d) => ({ ...d }));
    let nets = base[0].netdev.map((d) => ({ ...d }));
    let cpu = { ...base[0].stat.cpu };
    let cpus = Object.fromEntries(Object.entries(base[0].stat.cpus).map(([k, v]) => [k, { ...v }]));
    let vm = pick(base[0].vmstat, VM_KEYS);
    for (let k = 0; k < seconds; k++) {
      if (k > 0) {
        const j = (k - 1) % (n - 1);
        const a = base[j];
        const b = base[j + 1];
        const f = noise(h, k);
        disks = disks.map((d, i) => advance(d, a.diskstats[i], b.diskstats[i], f));
        nets = nets.map((d, i) => advance(d, a.netdev[i], b.netdev[i], f));
        cpu = advance(cpu, a.stat.cpu, b.stat.cpu, 1);
        cpus = Object.fromEntries(Object.entries(cpus).map(([c, v]) => [c, advance(v, a.stat.cpus[c], b.stat.cpus[c], 1)]));
        vm = advance(vm, pick(a.vmstat, VM_KEYS), pick(b.vmstat, VM_KEYS), f);
      }
      const t = base[k % n];
      const mem = pick(t.meminfo, MEM_KEYS);
      const used = mem.MemTotal - mem.MemAvailable;
      mem.MemAvailable = Math.max(0, Math.round(mem.MemTotal - used * (1 + h / 64 + 0.2 * Math.sin(k / 300))));
      const ns = startNs + k * 1e9 + h * 1e6;
      samples.push(new TimeSeriesSample({
        timestamp: new Date(ns / 1e6).toISOString().replace(/\.\d+Z$/, 'Z'),
        timestampNs: ns,
        hostname: name,
        diskstats: disks,
        vmstat: vm,
        meminfo: mem,
        loadavg: t.loadavg,
        netdev: nets,
        stat: { ...t.stat, cpu, cpus },
      }));
    }
    byHost.set(name, samples);
  }
  return new TimeSeriesData({
    collectionIntervalSeconds: 1,
    startTime: new Date(startNs / 1e6).toISOString().replace(/\.\d+Z$/, 'Z'),
    endTime: new Date(startNs / 1e6 + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    samplesByHost: byHost,
    collectionMethod: 'ssh',
    hostsRequested: [...byHost.keys()],
  });
}

/** In its own process (a big heap): the page for `hosts` × `seconds`; prints timings as JSON. */
async function generate(out, hosts, seconds) {
  const { buildReportModel } = require(join(ROOT, 'dist', 'report', 'build.js'));
  const { renderReportHtml } = require(join(ROOT, 'dist', 'report', 'html.js'));
  const base = await template(24);
  let t0 = performance.now();
  const data = synthesize(base, hosts, seconds);
  const synthMs = performance.now() - t0;
  t0 = performance.now();
  const model = buildReportModel([{ file: `synthetic-${hosts}x${seconds}.json`, data }]);
  const buildMs = performance.now() - t0;
  t0 = performance.now();
  const html = await renderReportHtml(model);
  writeFileSync(out, html);
  const renderMs = performance.now() - t0;
  const blobChars = [...model.blobs.values()].reduce((s, b) => s + b.length, 0);
  const overviewChars = model.blobs.get('o0').length;
  process.stdout.write(JSON.stringify({ synthMs, buildMs, renderMs, samples: hosts * seconds, blobChars, overviewChars, metaChars: JSON.stringify(model.meta).length }) + '\n');
}

/** Polls `expr` in the page until it is truthy (waitForFunction would need eval, which the page's CSP forbids). */
async function until(page, expr, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(expr);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${expr}`);
    await sleep(10);
  }
}

async function openRounds(file, rounds) {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  const out = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await ctx.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`, { waitUntil: 'commit' });
      await until(page, 'window.hostseriesReport?.firstChartMs !== undefined || window.hostseriesReport?.error !== undefined');
      await until(page, 'window.hostseriesReport?.ready || window.hostseriesReport?.error !== undefined');
      const m = await page.evaluate(`({ first: window.hostseriesReport.firstChartMs, error: window.hostseriesReport.error,
        dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
        ready: performance.now() })`);
      if (m.error || errors.length) throw new Error(`the page failed: ${m.error ?? errors.join('; ')}`);
      const t0 = Date.now();
      await page.keyboard.press('2');
      await page.waitForSelector('#hs-view-host[data-rendered]', { timeout: 60_000 });
      m.host = Date.now() - t0;
      out.push(m);
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
  return out;
}

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (scripts/install-test-deps.sh installs it)`);
  if (!existsSync(join(ROOT, 'dist', 'web', 'report.js'))) throw new Error('dist/web/report.js is missing: run npm run build');
  const cases = quick ? [{ hosts: 8, seconds: 600 }] : [{ hosts: 1, seconds: 3600 }, { hosts: 64, seconds: 3600 }];
  const rounds = quick ? 2 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-report-'));
  const rows = [];
  try {
    for (const c of cases) {
      const file = join(dir, `r${c.hosts}.html`);
      const g = spawnSync(process.execPath, ['--max-old-space-size=12288', fileURLToPath(import.meta.url), '--generate', file, String(c.hosts), String(c.seconds)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (g.status !== 0) throw new Error(`generating the ${c.hosts}-host page failed:\n${g.stderr}`);
      const gen = JSON.parse(g.stdout.trim().split('\n').pop());
      const size = statSync(file).size;
      const opened = await openRounds(file, rounds);
      rows.push({ ...c, ...gen, size, opened });
      console.error(`report: ${c.hosts} hosts × ${c.seconds} s: ${(size / 1048576).toFixed(1)} MiB, first chart ${median(opened.map((o) => o.first)).toFixed(0)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (v) => `${v.toFixed(0)} ms`;
  const md = [
    '# report: page size and load time',
    '',
    `\`node bench/report.mjs${quick ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 10)}. Chromium ${spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^Chromium /, '')} (Debian) headless through playwright-core, a fresh context per round, ${rounds} rounds, medians (min–max). Times from navigation start as the page measures them: **first chart** is \`performance.now()\` at the first uPlot draw (the page's \`hs-first-chart\` mark); **overview** is every overview row laid out (rows below the fold drawn as they scroll in); **Host view** is key \`2\` to its charts drawn (measured from Node). Data: a real recording of this host (0.25 s apart, dd writing) synthesized to N hosts × 1 h at 1 s (see the file's header).`,
    '',
    '| hosts × samples | host-samples | file size | of which data (base64 gzip) | build in Node | first chart drawn | DOMContentLoaded | overview | Host view |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const f = r.opened.map((o) => o.first);
      const range = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
      return `| ${r.hosts} × ${r.seconds} | ${r.samples.toLocaleString('en-US')} | ${(r.size / 1048576).toFixed(1)} MiB | ${(r.blobChars / 1048576).toFixed(1)} MiB (overview ${(r.overviewChars / 1048576).toFixed(1)}) | ${ms(r.buildMs)} | **${range(f)}** | ${range(r.opened.map((o) => o.dcl))} | ${range(r.opened.map((o) => o.ready))} | ${range(r.opened.map((o) => o.host))} |`;
    }),
    '',
    'Target (issue 16): 64 hosts × 1 h at 1 s, first chart drawn ≤ 1 s. The series are columns (f32 values, f64 times) gzipped per blob: the',
    "overview's headline series of every host in one blob, each host's detail series in its own, decoded only when that host is opened;",
    'charts get at most two points per pixel column (min and max), again on zoom.',
    '',
    '"build in Node" is one build per row, not interleaved with another; the build side by side with an older one: bench/results/report-build.md (`node bench/report-build.mjs`).',
    '',
  ].join('\n');
  writeFileSync(join(here, 'results', 'report.md'), md);
  return md;
}

if (process.argv[2] === '--generate') {
  await generate(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run();
}
