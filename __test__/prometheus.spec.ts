/**
 * hostseries as Prometheus sees it, against the real programs on 127.0.0.1: our exposition
 * beside node_exporter's for the same /proc files (same names, same label sets, values within
 * the drift between two of its scrapes); Prometheus scraping our /metrics; remote write into
 * Prometheus and VictoriaMetrics, read back exactly, including across a receiver outage.
 * Without the programs these tests fail in CI and are skipped (loudly) elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleFamilies } from '../lib/prometheus/families.js';
import { formatExposition } from '../lib/prometheus/exposition.js';
import { startMetricsServer } from '../lib/prometheus/endpoint.js';
import { decodeWriteRequest, encodeWriteRequest, toTimeSeries, WriteRequestEncoder } from '../lib/prometheus/remote-write.js';
import { RemoteWriter } from '../lib/prometheus/remote-writer.js';
import { PromQuery } from '../lib/prometheus/query.js';
import { nsOfMs } from '../lib/prometheus/samples.js';
import { TimeSeriesCollector } from '../lib/index.js';
import type { SampleDict } from '../lib/types/sample.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../scripts/free-port.mjs';
import { cliWorkdir, ENV, start } from './support/cli.js';
import { push, startServe } from './support/serve.js';
import { stringifyJson } from '../lib/json/stringify.js';
import { missingTsdb, parseExposition, seriesKey, startNodeExporter, startPrometheus, startVictoria, type Service } from './support/tsdb.js';

const missing = missingTsdb();
if (missing) {
  if (process.env.CI) throw new Error(`Prometheus tests need ${missing}`);
  console.warn(`\n!!! SKIPPING the Prometheus tests: ${missing} (they FAIL in CI)\n`);
}

let dir = '';
cliWorkdir('hostseries-prom-', (d) => (dir = d));

/** How long the TSDB is down in the agent's test (the issue asks for 30 s; HOSTSERIES_TEST_OUTAGE_S=30 runs that). */
const OUTAGE_SECONDS = Number(process.env.HOSTSERIES_TEST_OUTAGE_S ?? 4);

const VOLATILE = new Set(['node_procs_running', 'node_procs_blocked', 'node_disk_io_now']);

async function recordSamples(intervalSeconds: number, seconds: number): Promise<SampleDict[]> {
  const c = new TimeSeriesCollector({ intervalSeconds });
  await c.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (await c.stop()).map((s) => s.toDict());
}

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url);
  const body = (await r.json()) as T;
  if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

interface PromVector {
  data: { result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] };
}

/** Raw samples of one series from Prometheus (a range selector at `atSeconds`). */
async function promRaw(p: Service, selector: string, atSeconds: number): Promise<[number, number][]> {
  const q = new URLSearchParams({ query: `${selector}[10m]`, time: String(atSeconds) });
  const r = await json<PromVector>(`${p.url}/api/v1/query?${q.toString()}`);
  return (r.data.result[0]?.values ?? []).map(([t, v]) => [Math.round(t * 1000), Number(v)]);
}

describe('exposition and remote-write encoding', () => {
  it('writes node_exporter names for a sample, and a write request decodes back to the same series', async () => {
    const [d] = await recordSamples(1, 0);
    const text = formatExposition(sampleFamilies(d));
    expect(text).toMatch(/^node_cpu_seconds_total\{cpu="0",mode="user"\} \d/m);
    expect(text).toMatch(/^# TYPE node_disk_read_bytes_total counter$/m);
    expect(text).toMatch(/^node_memory_MemAvailable_bytes \d+$/m);
    const om = formatExposition(sampleFamilies(d), { openMetrics: true });
    expect(om).toMatch(/^# TYPE node_cpu_seconds counter$/m);
    expect(om.endsWith('# EOF\n')).toBe(true);

    const ts = toTimeSeries([d], { labels: { instance: 'h1' } });
    // The fast encoder (labels encoded once per series) writes the same request, over several
    // samples, with watched processes and app counters, and again with its labels cached.
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05, watch: ['self'] });
    await c.start();
    c.count('requests', 3);
    c.gauge('queue_depth', 2.5);
    await new Promise((r) => setTimeout(r, 200));
    const several = (await c.stop()).map((s) => s.toDict());
    expect(several.some((s) => s.processes?.length && s.app)).toBe(true);
    const fast = new WriteRequestEncoder({ labels: { env: 'test' } });
    for (const batch of [several, several.slice(1, 3)]) {
      expect(decodeWriteRequest(fast.encode(batch))).toEqual(decodeWriteRequest(encodeWriteRequest(toTimeSeries(batch, { labels: { env: 'test' } }))));
    }
    const back = decodeWriteRequest(encodeWriteRequest(ts));
    expect(back.timeseries).toEqual(ts.timeseries);
    for (const t of back.timeseries) {
      const names = t.labels.map((l) => l.name);
      expect(names).toEqual([...names].sort());
      expect(names).toContain('__name__');
      expect(t.labels.find((l) => l.name === 'instance')?.value).toBe('h1');
    }
  });
});

describe.skipIf(missing !== undefined)('against the real Prometheus, VictoriaMetrics and node_exporter', () => {
  let exporter: Service;
  let prom: Service;
  let vm: Service;
  beforeAll(async () => {
    [exporter, prom, vm] = await Promise.all([startNodeExporter(), startPrometheus(), startVictoria()]);
  });
  afterAll(async () => {
    await Promise.all([exporter?.dispose(), prom?.dispose(), vm?.dispose()]);
  });

  it('exposes what node_exporter exposes for the same files: same names, label sets and values (within one scrape)', async () => {
    const scrape = async () => parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    const before = await scrape();
    const [ours] = await recordSamples(1, 0);
    const after = await scrape();
    const mine = parseExposition(formatExposition(sampleFamilies(ours)));

    const theirs = new Map(before.series.map((s) => [seriesKey(s.name, s.labels), s.value]));
    const later = new Map(after.series.map((s) => [seriesKey(s.name, s.labels), s.value]));
    const theirFamilies = new Set(after.series.map((s) => s.name));
    let compared = 0;
    for (const s of mine.series) {
      if (!theirFamilies.has(s.name)) {
        expect(s.name, `${s.name} is node_exporter's name space but node_exporter has no such family`).toMatch(/^hostseries_/);
        continue;
      }
      const key = seriesKey(s.name, s.labels);
      const a = theirs.get(key), b = later.get(key);
      expect(a, `${key}: node_exporter has no series with these labels`).toBeDefined();
      expect(b).toBeDefined();
      expect(mine.types.get(s.name), `${s.name}'s type`).toBe(after.types.get(s.name));
      // A count of this instant (runnable processes, I/Os in flight) differs between any two
      // reads, the reader itself among what it counts: its name, labels and type are compared.
      if (VOLATILE.has(s.name)) continue;
      const lo = Math.min(a!, b!), hi = Math.max(a!, b!);
      // Counters can only be between the two scrapes; gauges (free memory, load) may wander a
      // little outside them.
      const slack = mine.types.get(s.name) === 'counter' ? 1e-9 * hi : (hi - lo) + 0.02 * Math.abs(hi) + 1;
      expect(s.value, `${key}: ours ${s.value}, node_exporter ${a} then ${b}`).toBeGreaterThanOrEqual(lo - slack);
      expect(s.value, `${key}: ours ${s.value}, node_exporter ${a} then ${b}`).toBeLessThanOrEqual(hi + slack);
      compared++;
    }
    // node_exporter's families for these files that we do not write: only what does not come
    // from them (udev's disk info, netlink's nohandler count, its own scrape metadata).
    const ourFamilies = new Set(mine.series.map((s) => s.name));
    const notOurs = [...theirFamilies].filter((n) => n.startsWith('node_') && !ourFamilies.has(n));
    expect(notOurs.sort()).toEqual(['node_disk_info', 'node_exporter_build_info', 'node_network_receive_nohandler_total',
      'node_scrape_collector_duration_seconds', 'node_scrape_collector_success'].filter((n) => theirFamilies.has(n)));
    expect(compared).toBeGreaterThan(150);
    for (const name of ['node_cpu_seconds_total', 'node_disk_read_bytes_total', 'node_memory_MemAvailable_bytes',
      'node_network_receive_bytes_total', 'node_load1', 'node_vmstat_pgpgin', 'node_context_switches_total']) {
      expect(ourFamilies.has(name), name).toBe(true);
    }
  });

  it('Prometheus scrapes /metrics and stores each value at the time it was measured', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.5 });
    await c.start();
    const server = await startMetricsServer('127.0.0.1', 0, () => {
      const s = c.current();
      return s ? [{ labels: [], sample: s.toDict() }] : [];
    });
    const scraper = await startPrometheus([new URL(server.url).host]);
    try {
      let got: [number, number][] = [];
      const deadline = Date.now() + 20_000;
      while (got.length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        got = await promRaw(scraper, 'node_memory_MemTotal_bytes{job="hostseries"}', Date.now() / 1000);
      }
      expect(got.length, scraper.log().slice(-1000)).toBeGreaterThanOrEqual(3);
      const samples = c.history().map((s) => s.toDict());
      const byMs = new Map(samples.map((d) => [Math.floor(d.timestamp_ns! / 1e6), d]));
      for (const [ms, v] of got) {
        const d = byMs.get(ms);
        expect(d, `Prometheus holds a value at ${ms}, a time we sampled at`).toBeDefined();
        expect(v).toBe(Number(d!.meminfo!.MemTotal) * 1024);
      }
    } finally {
      await scraper.dispose();
      await server.close();
      await c.stop();
    }
  });

  it('remote-writes into Prometheus and VictoriaMetrics; the values read back equal the samples', async () => {
    const samples = await recordSamples(0.2, 1.5);
    const host = `rw-${process.pid}`;
    for (const target of [`${prom.url}/api/v1/write`, `${vm.url}/api/v1/write`]) {
      const w = new RemoteWriter({ url: target, labels: { instance: host } });
      w.write(...samples);
      expect(await w.close(10_000)).toBe(0);
      expect(w.stats.sentSamples).toBe(samples.length);
    }
    const expected = samples.map((d) => [Math.floor(d.timestamp_ns! / 1e6), Number(d.stat!.ctxt)]);
    const fromProm = await promRaw(prom, `node_context_switches_total{instance="${host}"}`, Date.now() / 1000);
    expect(fromProm).toEqual(expected);
    // And through query_range, at a sample's own time.
    const mid = samples[Math.floor(samples.length / 2)];
    const t = Math.floor(mid.timestamp_ns! / 1e6) / 1000;
    const q = new URLSearchParams({ query: `node_disk_read_bytes_total{instance="${host}"}`, start: String(t), end: String(t), step: '1' });
    const range = await json<PromVector>(`${prom.url}/api/v1/query_range?${q.toString()}`);
    // A RemoteWriter sends every device (FULL_FIDELITY), partitions and loop devices too.
    const disks = mid.diskstats!;
    expect(range.data.result).toHaveLength(disks.length);
    for (const r of range.data.result) {
      const disk = disks.find((d) => d.device_name === r.metric.device)!;
      expect(Number(r.values![0][1])).toBe(Number(disk.sectors_read) * 512);
    }

    // VictoriaMetrics makes what it took searchable within a second or so.
    let fromVm: [number, number][] = [];
    for (let i = 0; i < 50 && fromVm.length < expected.length; i++) {
      await fetch(`${vm.url}/internal/force_flush`);
      fromVm = await vmRaw(vm, `node_context_switches_total{instance="${host}"}`);
      if (fromVm.length < expected.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(fromVm).toEqual(expected);
  });

  it('whole samples come back from Prometheus and VictoriaMetrics as they were sent (to the ms)', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.2, watch: ['self'] });
    await c.start();
    c.count('requests', 7);
    c.gauge('queue_depth', 1.5);
    await new Promise((r) => setTimeout(r, 1000));
    const sent = (await c.stop()).map((s) => s.toDict());
    const host = `whole-${process.pid}`;
    // What a database can give back: ms time, entries in name order, no command line, state or
    // errors (samples.ts).
    const natural = new Intl.Collator('en', { numeric: true });
    const expected = sent.map((d) => {
      const ms = Math.floor(d.timestamp_ns! / 1e6);
      const { errors: _errors, ...rest } = d;
      return {
        ...rest, hostname: host, timestamp_ns: nsOfMs(ms),
        diskstats: [...d.diskstats!].sort((a, b) => natural.compare(a.device_name, b.device_name)),
        netdev: [...d.netdev!].sort((a, b) => natural.compare(a.interface_name, b.interface_name)),
        ...(d.processes ? { processes: d.processes.map((p) => ({ ...p, cmdline: '', state: '', start_time_ns: expect.closeTo(p.start_time_ns, -4) as number })) } : {}),
      };
    });
    const from = Math.floor(sent[0].timestamp_ns! / 1e6), to = Math.floor(sent[sent.length - 1].timestamp_ns! / 1e6);
    for (const db of [prom, vm]) {
      const w = new RemoteWriter({ url: `${db.url}/api/v1/write`, labels: { instance: host } });
      w.write(...sent);
      expect(await w.close(10_000)).toBe(0);
      const q = new PromQuery({ url: db.url });
      let back: SampleDict[] = [];
      for (let i = 0; i < 50 && back.length < sent.length; i++) {
        if (db === vm) await fetch(`${vm.url}/internal/force_flush`);
        back = await q.samples(host, from, to);
        if (back.length < sent.length) await new Promise((r) => setTimeout(r, 200));
      }
      expect(back, db.url).toEqual(expected);
    }
  });

  it('hostseries agent --remote-write --metrics-listen: a TSDB down mid-run and back has every sample once, queued on disk meanwhile; /metrics answers', async () => {
    const host = `agent-rw-${process.pid}`;
    const port = await freePort(['127.0.0.1']);
    const a = start(['agent', '--remote-write', `${prom.url}/api/v1/write`, '--hostname', host, '-i', '0.25', '--push-interval', '0.5',
      '--queue-dir', join(dir, 'queue'), '--tee', join(dir, 'tee.jsonl'), '--metrics-listen', `127.0.0.1:${port}`, '--tag', 'rack=r1'], { cwd: dir, env: ENV });
    try {
      const until = async (what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
        for (const deadline = Date.now() + ms; !(await f());) {
          if (Date.now() > deadline || a.child.exitCode !== null) throw new Error(`timed out waiting for ${what}: ${a.stderr()}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      await until('/metrics', async () => (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.ok === true);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/^node_context_switches_total \d+ \d+$/m);
      const count = async () => (await promRaw(prom, `node_context_switches_total{instance="${host}"}`, Date.now() / 1000)).length;
      await until('samples in Prometheus', async () => (await count()) >= 3);
      await prom.stop();
      await new Promise((r) => setTimeout(r, OUTAGE_SECONDS * 1000));
      await prom.restart();
      const teed = (): SampleDict[] => readFileSync(join(dir, 'tee.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"timestamp_ns"'))
        .map((l) => JSON.parse(l) as { sample?: SampleDict } & SampleDict).map((x) => x.sample ?? x);
      // The backlog goes once a retry (backoff with jitter, up to a minute) finds the TSDB back.
      await until('the backlog delivered', async () => (await count()) >= teed().length - 4, 70_000 + OUTAGE_SECONDS * 1000);
      a.child.kill('SIGTERM');
      const r = await a.done;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/remote write: /);
      const sent = teed();
      await until('every sample in Prometheus', async () => (await count()) >= sent.length, 10_000);
      const got = await promRaw(prom, `node_context_switches_total{instance="${host}",rack="r1"}`, Date.now() / 1000);
      expect(got).toEqual(sent.map((d) => [Math.floor(d.timestamp_ns! / 1e6), Number(d.stat!.ctxt)]));
    } finally {
      if (a.child.exitCode === null) a.child.kill('SIGKILL');
    }
  }, 120_000 + OUTAGE_SECONDS * 2000);

  it('serve --remote-write forwards what agents push, each host with its tags as labels; serve /metrics has every online host under its instance', async () => {
    const samples = await recordSamples(0.2, 1);
    const hosts = [`fwd-a-${process.pid}`, `fwd-b-${process.pid}`];
    const server = await startServe(['--no-auth', '--data', join(dir, 'serve-data'), '--remote-write', `${prom.url}/api/v1/write`], dir);
    try {
      // Each host's own tags (a name that is no label name made one: role-x → role_x).
      const tagsOf = (h: string): string => `rack=r-${h},role-x=${h === hosts[0] ? 'web' : 'db'}`;
      const selector = (h: string): string => `instance="${h}",rack="r-${h}",role_x="${h === hosts[0] ? 'web' : 'db'}"`;
      for (const h of hosts) {
        const r = await push(server.url, samples.map((d) => stringifyJson({ ...d, hostname: h })).join('\n'), { 'x-hostseries-tags': tagsOf(h) });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
      for (const h of hosts) {
        let got: [number, number][] = [];
        for (let i = 0; i < 100 && got.length < samples.length; i++) {
          got = await promRaw(prom, `node_context_switches_total{${selector(h)}}`, Date.now() / 1000);
          if (got.length < samples.length) await new Promise((r) => setTimeout(r, 200));
        }
        expect(got).toEqual(samples.map((d) => [Math.floor(d.timestamp_ns! / 1e6), Number(d.stat!.ctxt)]));
      }
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const last = samples[samples.length - 1];
      for (const h of hosts) {
        expect(text).toContain(`node_context_switches_total{instance="${h}"} ${Number(last.stat!.ctxt)} ${Math.floor(last.timestamp_ns! / 1e6)}\n`);
      }
      const om = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
      expect((await om.text()).endsWith('# EOF\n')).toBe(true);
    } finally {
      const r = await server.stop();
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('a receiver stopped mid-run and restarted: the series has no hole and no double', async () => {
    const host = `outage-${process.pid}`;
    const w = new RemoteWriter({ url: `${prom.url}/api/v1/write`, labels: { instance: host }, backoff: { initialMs: 200, maxMs: 1000 } });
    const c = new TimeSeriesCollector({ intervalSeconds: 0.25 });
    c.on('sample', (s) => w.write(s.toDict()));
    await c.start();
    await new Promise((r) => setTimeout(r, 1500));
    await prom.stop();
    await new Promise((r) => setTimeout(r, 5000));
    expect(w.stats.queued).toBeGreaterThan(10);
    await prom.restart();
    await new Promise((r) => setTimeout(r, 1500));
    const samples = (await c.stop()).map((s) => s.toDict());
    expect(await w.close(20_000)).toBe(0);
    expect(w.stats.retries).toBeGreaterThan(0);
    const got = await promRaw(prom, `node_context_switches_total{instance="${host}"}`, Date.now() / 1000);
    expect(got).toEqual(samples.map((d) => [Math.floor(d.timestamp_ns! / 1e6), Number(d.stat!.ctxt)]));
  }, 60_000);
});

/** Raw samples of one series from VictoriaMetrics' export API. */
async function vmRaw(vm: Service, selector: string): Promise<[number, number][]> {
  const r = await fetch(`${vm.url}/api/v1/export?${new URLSearchParams({ 'match[]': selector }).toString()}`);
  const lines = (await r.text()).trim().split('\n').filter(Boolean);
  if (lines.length === 0) return [];
  expect(lines).toHaveLength(1);
  const { values, timestamps } = JSON.parse(lines[0]) as { values: number[]; timestamps: number[] };
  return timestamps.map((t, i) => [t, values[i]]);
}
