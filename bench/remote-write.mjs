// Prometheus remote write (issue 17): what it costs a host to send its samples with hostseries'
// RemoteWriter, beside node_exporter scraped by Prometheus at the same interval, and what each
// path costs the receiving Prometheus. Real programs on 127.0.0.1: Debian's prometheus and
// prometheus-node-exporter (scripts/install-test-deps.sh).
// Run: node bench/remote-write.mjs [--quick]   (after `npm run build`)
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { freePort } from '../scripts/free-port.mjs';
import { BenchError, RESULTS, ROOT, conditions, conditionsText, cpuTimes, fmt, machine, machineMarkdown, median, sleep } from './lib/common.mjs';

/** CPU (ns) of every thread of `pid` so far (schedstat), 0 once it is gone. */
function cpuNs(pid) {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended
      }
    }
  } catch {
    return 0;
  }
  return ns;
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function waitOk(url, child, what) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new BenchError(`bench: ${what} exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new BenchError(`bench: ${what} did not start (${url})`);
}

async function prometheus(dir, name, scrapeTarget, interval) {
  const port = await freePort(['127.0.0.1']);
  const cfg = join(dir, `${name}.yml`);
  writeFileSync(cfg, [
    `global: { scrape_interval: ${interval}s, evaluation_interval: ${interval}s }`,
    'scrape_configs:',
    ...(scrapeTarget ? ['  - job_name: node', `    static_configs: [{ targets: ["${scrapeTarget}"] }]`] : []),
    '',
  ].join('\n'));
  const p = spawn('/usr/bin/prometheus', [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, name)}`,
    `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=error'], { stdio: 'ignore' });
  await waitOk(`http://127.0.0.1:${port}/-/ready`, p, `prometheus (${name})`);
  return { p, url: `http://127.0.0.1:${port}` };
}

// The host side of the push path: a collector and a RemoteWriter, as an agent runs them.
// With 'node_exporter' it sends what node_exporter's defaults expose; else whole samples.
const SENDER = `
const hs = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
const { TimeSeriesCollector, RemoteWriter } = hs;
const [url, interval, set] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
const only = set === 'node_exporter' ? { diskExclude: hs.NODE_EXPORTER_DISK_EXCLUDE, netExclude: hs.NODE_EXPORTER_NET_EXCLUDE,
  vmstatFields: hs.NODE_EXPORTER_VMSTAT_FIELDS, aggregateCpu: false } : {};
const w = new RemoteWriter({ url, labels: { instance: set }, maxSamplesPerSend: 1, ...only });
const c = new TimeSeriesCollector({ intervalSeconds: interval, maxSamples: 100000 });
c.on('sample', (s) => w.write(s.toDict()));
c.start();
setInterval(() => process.stdout.write(JSON.stringify(w.stats) + '\\n'), 1000);
process.on('SIGTERM', () => c.stop().then(() => w.close()).then(() => process.exit(0)));
`;

async function query(prom, q) {
  const r = await (await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: q }).toString()}`)).json();
  return Number(r.data?.result?.[0]?.value?.[1] ?? NaN);
}

export async function run({ quick = process.argv.includes('--quick') } = {}) {
  const interval = 1;
  const warmS = quick ? 5 : 30, windowS = quick ? 10 : 60, rounds = quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'hostseries-rw-'));
  const procs = [];
  try {
    const nePort = await freePort(['127.0.0.1']);
    const ne = spawn('/usr/bin/prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`, '--collector.disable-defaults',
      '--collector.diskstats', '--collector.meminfo', '--collector.netdev', '--collector.loadavg', '--collector.stat', '--collector.cpu', '--collector.vmstat'], { stdio: 'ignore' });
    procs.push(ne);
    await waitOk(`http://127.0.0.1:${nePort}/metrics`, ne, 'node_exporter');
    const receiver = await prometheus(dir, 'receiver', null, interval);
    const scraper = await prometheus(dir, 'scraper', `127.0.0.1:${nePort}`, interval);
    procs.push(receiver.p, scraper.p);
    const stats = { full: {}, node_exporter: {} };
    const senders = {};
    for (const set of ['full', 'node_exporter']) {
      const p = spawn(process.execPath, ['-e', SENDER, `${receiver.url}/api/v1/write`, String(interval), set], { stdio: ['ignore', 'pipe', 'inherit'] });
      procs.push(p);
      senders[set] = p;
      p.stdout.on('data', (b) => {
        try {
          stats[set] = JSON.parse(b.toString().trim().split('\n').pop());
        } catch {
          // a partial line
        }
      });
    }
    await sleep(warmS * 1000);
    const results = [];
    for (let r = 0; r < rounds; r++) {
      const pids = { full: senders.full.pid, subset: senders.node_exporter.pid, ne: ne.pid, receiver: receiver.p.pid, scraper: scraper.p.pid };
      const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuNs(pid)]));
      const s0 = structuredClone(stats);
      const m0 = cpuTimes();
      await sleep(windowS * 1000);
      const after = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuNs(pid)]));
      const s1 = structuredClone(stats);
      const sent = (set) => s1[set].sentSamples - s0[set].sentSamples;
      const scrapes = windowS / interval;
      results.push({
        fullMs: (after.full - before.full) / 1e6 / sent('full'),
        subsetMs: (after.subset - before.subset) / 1e6 / sent('node_exporter'),
        neMs: (after.ne - before.ne) / 1e6 / scrapes,
        // The receiver takes both senders' samples.
        receiverMs: (after.receiver - before.receiver) / 1e6 / (sent('full') + sent('node_exporter')),
        scraperMs: (after.scraper - before.scraper) / 1e6 / scrapes,
        fullBytes: (s1.full.sentBytes - s0.full.sentBytes) / sent('full'),
        subsetBytes: (s1.node_exporter.sentBytes - s0.node_exporter.sentBytes) / sent('node_exporter'),
        cond: conditions(m0, cpuTimes()),
      });
    }
    // A scrape's body as Prometheus receives it (it asks for gzip), and its series.
    const scrapeText = await (await fetch(`http://127.0.0.1:${nePort}/metrics`)).text();
    const scrapeGz = gzipSync(scrapeText).length;
    const nodeSeries = await query(scraper, 'scrape_samples_scraped{job="node"}');
    const fullSeries = await query(receiver, 'count({instance="full"})');
    const subsetSeries = await query(receiver, 'count({instance="node_exporter"})');
    const rss = { full: rssMiB(senders.full.pid), subset: rssMiB(senders.node_exporter.pid), ne: rssMiB(ne.pid) };
    const m = (k) => median(results.map((x) => x[k]));
    const md = [
      '# Prometheus remote write: cost per host-sample',
      '',
      `Command: \`node bench/remote-write.mjs${quick ? ' --quick' : ''}\`, ${new Date().toISOString()}. Interval ${interval} s; ${rounds} window${rounds > 1 ? 's' : ''} of ${windowS} s after ${warmS} s of warm-up; medians.`,
      '',
      'Push: Node processes with a `TimeSeriesCollector` and a `RemoteWriter` (one request per sample) sending to a Prometheus with',
      '`--web.enable-remote-write-receiver`: one sends whole samples (the default, `FULL_FIDELITY`: every device, interface and',
      'vmstat field), one what node_exporter\'s defaults expose. Pull: node_exporter 1.5 with the same seven collectors, scraped',
      'by a second Prometheus at the same interval. CPU is each process\'s own, all threads (`/proc/<pid>/task/*/schedstat`).',
      '',
      '<!-- headline -->',
      '| path | host side: CPU per sample | host side RSS | on the wire per sample | series per sample | receiving Prometheus: CPU per sample |',
      '|---|---:|---:|---:|---:|---:|',
      `| hostseries remote write, whole samples (default) | ${fmt(m('fullMs'), 3)} ms | ${fmt(rss.full, 1)} MiB | ${fmt(m('fullBytes') / 1024, 2)} KiB | ${fmt(fullSeries, 0)} | ${fmt(m('receiverMs'), 3)} ms (both senders, per sample) |`,
      `| hostseries remote write, node_exporter's set | ${fmt(m('subsetMs'), 3)} ms | ${fmt(rss.subset, 1)} MiB | ${fmt(m('subsetBytes') / 1024, 2)} KiB | ${fmt(subsetSeries, 0)} | |`,
      `| node_exporter, scraped (gzip text) | ${fmt(m('neMs'), 3)} ms | ${fmt(rss.ne, 1)} MiB | ${fmt(scrapeGz / 1024, 2)} KiB | ${fmt(nodeSeries, 0)} | ${fmt(m('scraperMs'), 3)} ms |`,
      '<!-- /headline -->',
      '',
      `Host side, the same set of series: hostseries ÷ node_exporter = **${fmt(m('subsetMs') / m('neMs'), 2)}×** CPU, **${fmt(m('subsetBytes') / scrapeGz, 2)}×** bytes; whole samples ${fmt(m('fullMs') / m('neMs'), 2)}× and ${fmt(m('fullBytes') / scrapeGz, 2)}×. The receiving Prometheus's CPU includes its own housekeeping.`,
      'node_exporter\'s series count includes its scrape metadata (`node_scrape_*`, `go_*`, `process_*`, `promhttp_*`); ours include',
      'what node_exporter has no name for (`node_exporter` leaves out nothing we send, see __test__/prometheus.spec.ts).',
      '',
      conditionsText(results[results.length - 1].cond),
      '',
      machineMarkdown(machine()),
    ].join('\n');
    writeFileSync(join(RESULTS, 'remote-write.md'), md + '\n');
    console.log(md);
    return md;
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
