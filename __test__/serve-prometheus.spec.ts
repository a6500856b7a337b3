/**
 * `serve --prometheus URL` against the real Prometheus and VictoriaMetrics on 127.0.0.1: real
 * agents push to it, the samples go to the TSDB by remote write, and every read route answers
 * from the TSDB's query API exactly as the SQLite-backed serve answers for the same samples (as
 * the TSDB keeps them: time to the ms, devices in name order; lib/prometheus/samples.ts); a push
 * while the TSDB is down is answered 503 and delivered later. Also: `points`/`table` read from
 * whole samples (the Prometheus store's) equal the SQLite store's column reads; `points`/`table`
 * read from only the series of their paths (path-series.ts), one host or many in one query, equal
 * those read from whole sections; the matrix reader equals JSON.parse; `pathReader` equals `valueAt`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TimeSeriesCollector } from '../lib/index.js';
import { readTimeSeriesJson } from '../lib/files/json-file.js';
import { stringifyJson } from '../lib/json/stringify.js';
import { valueAt } from '../lib/collector/aggregate.js';
import { FULL_FIDELITY, SAMPLE_TIME } from '../lib/prometheus/families.js';
import { parseMatrix } from '../lib/prometheus/matrix.js';
import { PromQuery } from '../lib/prometheus/query.js';
import { seriesOfPaths } from '../lib/prometheus/path-series.js';
import { WriteRequestEncoder } from '../lib/prometheus/remote-write.js';
import { postWriteRequest } from '../lib/prometheus/remote-writer.js';
import { nsOfMs } from '../lib/prometheus/samples.js';
import { rateRecipe } from '../lib/serve/rate-inputs.js';
import { pathReader, pointsOf, tableOf } from '../lib/serve/store/from-window.js';
import { PrometheusStore } from '../lib/serve/store/prometheus.js';
import { narrowSamples } from '../lib/serve/store/prometheus-read.js';
import { SqliteStore } from '../lib/serve/store/sqlite.js';
import type { SampleDict } from '../lib/types/sample.js';
import { cli, cliWorkdir, ENV, start, type Started } from './support/cli.js';
import { push, startServe, type Server } from './support/serve.js';
import { missingTsdb, startPrometheus, startVictoria, type Service } from './support/tsdb.js';

const missing = missingTsdb();
if (missing) {
  if (process.env.CI) throw new Error(`serve --prometheus tests need ${missing}`);
  console.warn(`\n!!! SKIPPING the serve --prometheus tests: ${missing} (they FAIL in CI)\n`);
}

let dir = '';
cliWorkdir('hostseries-serve-prom-', (d) => (dir = d));

const TOKEN = 'write-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const READ_HEADERS = { authorization: `Bearer ${READ}` };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { headers: READ_HEADERS });
  return { status: r.status, text: await r.text() };
}

async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const r = await get(url);
  expect(r.status, `${url}: ${r.text}`).toBe(200);
  return JSON.parse(r.text) as T;
}

interface HostJson {
  hostname: string;
  online: boolean;
  tags: Record<string, string>;
  agent_version: string | null;
  samples: number;
  first_sample: string | null;
  last_sample: string | null;
  disks: string[];
  interfaces: string[];
}

const hostsOf = async (url: string): Promise<HostJson[]> => (await getJson<{ hosts: HostJson[] }>(`${url}/api/v1/hosts`)).hosts;

/** The samples an agent sent, from its --tee file. */
function teed(file: string): SampleDict[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"timestamp_ns"'))
    .map((l) => JSON.parse(l) as { sample?: SampleDict } & SampleDict).map((x) => x.sample ?? x);
}

const natural = new Intl.Collator('en', { numeric: true });

/** A sample as a TSDB gives it back (lib/prometheus/samples.ts): ms time, entries in name order, no errors. */
function asKept(d: SampleDict): SampleDict {
  const { errors: _errors, ...rest } = d;
  return {
    ...rest, timestamp_ns: nsOfMs(Math.floor(d.timestamp_ns! / 1e6)),
    ...(d.diskstats ? { diskstats: [...d.diskstats].sort((a, b) => natural.compare(a.device_name, b.device_name)) } : {}),
    ...(d.netdev ? { netdev: [...d.netdev].sort((a, b) => natural.compare(a.interface_name, b.interface_name)) } : {}),
    ...(d.processes ? { processes: d.processes.map((p) => ({ ...p, cmdline: '', state: '' })) } : {}),
  };
}

describe('points and table from whole samples', () => {
  it("equal the SQLite store's column reads, every kind of path", async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05, watch: ['self'] });
    await c.start();
    c.count('steps', 3);
    await sleep(600);
    const samples = (await c.stop()).map((s) => s.toDict());
    const store = new SqliteStore(join(dir, 'table'));
    try {
      store.put('h', samples.map((d) => ({ ...d, hostname: 'h' })), { receivedMs: Date.now() });
      const all = store.window('h', 0n, 2n ** 62n);
      const d0 = samples[0];
      const paths = ['meminfo.MemFree', 'loadavg.load_1min', `diskstats.${d0.diskstats![0].device_name}.sectors_written`,
        `netdev.${d0.netdev![0].interface_name}.rx_bytes`, 'stat.cpu.user', 'stat.cpus.cpu0.system', 'stat.btime', 'vmstat.pgfault', 'app.steps',
        `processes.${d0.processes![0].key}.rss_kb`, 'meminfo.NoSuchKey'];
      const from = BigInt(samples[2].timestamp_ns!);
      const to = BigInt(samples[samples.length - 3].timestamp_ns!);
      const inWindow = all.filter((d) => BigInt(d.timestamp_ns!) >= from && BigInt(d.timestamp_ns!) <= to);
      const fast = store.table('h', from, to, paths);
      const general = tableOf(inWindow, paths);
      expect(general.timesNs).toEqual(fast.timesNs);
      paths.forEach((p, j) => {
        expect(Array.from(general.columns[j]), p).toEqual(Array.from(fast.columns[j]));
        expect(pointsOf(inWindow, p), p).toEqual(store.points('h', from, to, p));
      });
      expect(fast.columns[paths.length - 1].every(Number.isNaN)).toBe(true);
    } finally {
      store.close();
    }
  });
});

/** Every kind of path a sample has, some of them absent or not values (a section, a field no sample has). */
function pathsOf(d: SampleDict): string[] {
  const disk = d.diskstats![0].device_name;
  const nic = d.netdev![d.netdev!.length - 1].interface_name;
  return [
    'meminfo.MemAvailable', 'meminfo.Active(anon)', 'meminfo.HugePages_Total', 'meminfo.NoSuchKey', 'vmstat.pgfault', 'vmstat.nope',
    'loadavg.load_1min', 'loadavg.total_processes', 'loadavg.nope', `diskstats.${disk}.sectors_written`, `diskstats.${disk}.ios_in_progress`,
    `diskstats.${disk}.nope`, `diskstats.${disk}`, `netdev.${nic}.rx_bytes`, `netdev.${nic}.tx_carrier`, 'netdev.nosuch0.rx_bytes',
    ...['user', 'idle', 'guest', 'guest_nice', 'nope'].map((f) => `stat.cpu.${f}`), 'stat.cpu', 'stat.cpus.cpu0.system', 'stat.cpus.cpu0.guest',
    'stat.cpus.cpu99.user', 'stat.btime', 'stat.ctxt', 'stat.procs_running', 'stat.nope', 'app.steps', 'app.nope',
    `processes.${d.processes![0].key}.rss_kb`, `processes.${d.processes![0].key}.cpu_user_ticks`, 'processes.nope.rss_kb',
    ...['rates.cpu.all.busy', `rates.disk.${disk}.util`, `rates.net.${nic}.rx_bytes_s`, 'rates.mem.used_pct', 'rates.vm.fault_s'].flatMap((r) => rateRecipe(r)!.paths),
  ];
}

describe('pathReader', () => {
  it('reads what valueAt reads: every path of real samples, and keys with dots', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05, watch: ['self'] });
    await c.start();
    c.count('steps', 3);
    await sleep(300);
    const samples = (await c.stop()).map((s) => s.toDict());
    const d0 = samples[0];
    const dotted = { ...d0, netdev: [...d0.netdev!, { ...d0.netdev![0], interface_name: 'eth0.100' }, { ...d0.netdev![0], interface_name: 'eth0', rx_bytes: 7 }],
      app: { 'a.b': 1, a: 2 }, meminfo: { ...d0.meminfo, 'X.Y': 5 } } as SampleDict;
    const paths = [...pathsOf(d0), 'netdev.eth0.100.rx_bytes', 'netdev.eth0.rx_bytes', 'app.a.b', 'app.a', 'meminfo.X.Y', 'meminfo.X', 'hostname', 'timestamp_ns',
      'stat', 'stat.cpus.cpu0', 'diskstats.0.reads_completed', 'meminfo.constructor', 'meminfo.toString'];
    for (const d of [...samples, dotted]) for (const p of paths) expect(pathReader(p)(d), p).toBe(valueAt(d, p));
  });
});

describe('the matrix reader', () => {
  it('reads what JSON.parse reads, and leaves what it does not know to it', () => {
    const text = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [
      { metric: { __name__: 'a', instance: 'h"1\\}', x: '{]' }, values: [[1796193856, '1'], [1796193856.1, 'NaN'], [1796193856.25, '+Inf'], [1796193856.001, '-1.5e-7']] },
      { metric: {}, values: [] },
      { metric: { b: 'c' }, values: [[1796193856.0004, '3'], [0.5, '0']] },
    ] } });
    const parsed = (JSON.parse(text) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }).data.result
      .map((r) => ({ metric: r.metric, points: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]) }));
    expect(parseMatrix(text)).toEqual(parsed);
    expect(parseMatrix(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }))).toBeUndefined();
    expect(parseMatrix(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }))).toEqual([]);
    expect(parseMatrix(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[-1, '1']] }] } }))).toBeUndefined();
    expect(parseMatrix(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }, null, 1))).toBeUndefined();
    expect(parseMatrix(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, histograms: [] }] } }))).toBeUndefined();
  });
});

describe('PromQuery on loopback', () => {
  it('asks for answers uncompressed there (gzip only costs CPU), gzip\'d with compress: true', async () => {
    const heard: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      heard.push(req.headers['accept-encoding']);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { instance: 'h' }, value: [1, '2'] }] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await new PromQuery({ url }).vector('up')).toEqual([{ labels: { instance: 'h' }, ms: 1000, value: 2 }]);
      await new PromQuery({ url, compress: true }).vector('up');
      expect(heard[0]).toBe('identity');
      expect(heard[1]).toMatch(/gzip/);
    } finally {
      server.close();
    }
  });
});

describe('serve --prometheus: what does not go with it', () => {
  it('refuses --data, --retention, --sync and --remote-write beside --prometheus, and --prometheus-token-file without it', () => {
    const r = cli(['serve', '--no-auth', '--listen', '127.0.0.1:0', '--prometheus', 'http://127.0.0.1:9', '--data', join(dir, 'd'), '--retention', '1d'], { cwd: dir, env: ENV });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--prometheus keeps the samples in the TSDB: --data, --retention do not go with it (its retention is the TSDB's own)");
    const t = cli(['serve', '--no-auth', '--listen', '127.0.0.1:0', '--prometheus-token-file', join(dir, 'nope')], { cwd: dir, env: ENV });
    expect(t.status).toBe(2);
    expect(t.stderr).toContain('--prometheus-token-file goes with --prometheus');
  });
});

describe.skipIf(missing !== undefined)('serve --prometheus against the real Prometheus and VictoriaMetrics', () => {
  let prom: Service;
  let vm: Service;
  const servers: Server[] = [];
  const agents: Started[] = [];
  beforeAll(async () => {
    [prom, vm] = await Promise.all([startPrometheus(), startVictoria()]);
  });
  afterAll(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await Promise.all([prom?.dispose(), vm?.dispose()]);
  });

  async function serve(args: string[]): Promise<Server> {
    const s = await startServe(args, dir, { HOSTSERIES_TOKEN: TOKEN, HOSTSERIES_READ_TOKEN: READ });
    servers.push(s);
    return s;
  }

  for (const which of ['Prometheus', 'VictoriaMetrics'] as const) {
    it(`${which}: agents push through serve --prometheus; every read route answers as the SQLite serve does for the same samples`, async () => {
      const db = which === 'Prometheus' ? prom : vm;
      // VictoriaMetrics makes what it took searchable within a second or so; this makes it so now.
      const flush = async (): Promise<void> => {
        if (db === vm) await fetch(`${vm.url}/internal/force_flush`);
      };
      // Online a long while after the agents stop: /metrics has every online host's latest sample.
      const server = await serve(['--prometheus', db.url, '--offline-after', '3600']);
      expect(server.stderr()).toContain(`samples in the TSDB at ${db.url}`);
      const hosts = [`${which.toLowerCase()}-a-${process.pid}`, `${which.toLowerCase()}-b-${process.pid}`];
      const tees = hosts.map((h) => join(dir, `${h}.jsonl`));
      for (const [i, h] of hosts.entries()) {
        agents.push(start(['agent', '--server', server.url, '-i', '0.25', '--push-interval', '0.5', '--hostname', h, '--tag', 'rack=r1',
          '--tag', 'role-x=db', '--queue-dir', join(dir, `q-${h}`), '--tee', tees[i]], { cwd: dir, env: { ...ENV, HOSTSERIES_TOKEN: TOKEN } }));
      }
      // An open dashboard hears of the pushes.
      const events = await fetch(`${server.url}/api/v1/events?token=${READ}`);
      expect(events.status).toBe(200);
      const reader = events.body!.getReader();
      let heard = '';
      await until('a pushed event', async () => {
        heard += new TextDecoder().decode((await reader.read()).value);
        return heard.includes('event: samples');
      });
      await reader.cancel();
      await until('8 samples of each host in the TSDB', async () => {
        await flush();
        const listed = await hostsOf(server.url);
        return listed.length === 2 && listed.every((h) => h.samples >= 8);
      });
      for (const a of agents.splice(0)) {
        a.child.kill('SIGTERM');
        const r = await a.done;
        expect(r.status, r.stderr).toBe(0);
      }
      const sent = tees.map(teed);
      const listed = await until('every sample in the TSDB', async () => {
        await flush();
        const l = await hostsOf(server.url);
        return l.length === 2 && l.every((h, i) => h.samples === sent[i].length) && l;
      });
      expect(listed.map((h) => h.hostname)).toEqual(hosts);
      for (const h of listed) {
        expect(h.online).toBe(true);
        expect(h.tags).toEqual({ rack: 'r1', role_x: 'db' });
        expect(h.agent_version).toMatch(/^hostseries\/\d+\.\d+\.\d+/);
      }

      // The same samples, as the TSDB keeps them, pushed to a SQLite serve with the same tags and agent.
      const kept = sent.map((s) => s.map(asKept));
      const sqlite = await serve(['--data', join(dir, `sqlite-${which}`), '--offline-after', '3600']);
      for (const i of hosts.keys()) {
        const r = await push(sqlite.url, kept[i].map((d) => stringifyJson(d)).join('\n'), {
          authorization: `Bearer ${TOKEN}`, 'x-hostseries-tags': 'rack=r1,role_x=db', 'x-hostseries-agent': listed[i].agent_version!,
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.accepted).toBe(kept[i].length);
      }
      const fromSqlite = await hostsOf(sqlite.url);
      const same = (l: HostJson[]) => l.map(({ hostname, online, tags, agent_version, samples, first_sample, last_sample, disks, interfaces }) =>
        ({ hostname, online, tags, agent_version, samples, first_sample, last_sample, disks: [...disks].sort(natural.compare), interfaces: [...interfaces].sort(natural.compare) }));
      expect(same(listed)).toEqual(same(fromSqlite));
      const one = await getJson<HostJson>(`${server.url}/api/v1/hosts/${hosts[0]}`);
      expect(same([one])).toEqual(same([listed[0]]));
      expect((await get(`${server.url}/api/v1/hosts/no-such-host`)).status).toBe(404);
      expect((await fetch(`${server.url}/api/v1/hosts`)).status).toBe(401);

      // Values and rates, per host and across the fleet, bucketed and summarized: the same answers.
      const first = kept[0][0].timestamp_ns!;
      const last = kept[0][kept[0].length - 1].timestamp_ns!;
      const w = `from=${first}&to=${last}`;
      const disk = kept[0][0].diskstats![0].device_name;
      const nic = kept[0][0].netdev![0].interface_name;
      const paths = ['meminfo.MemAvailable', `diskstats.${disk}.sectors_read`, 'stat.cpu.user', 'rates.cpu.all.busy', `rates.disk.${disk}.util`,
        `rates.net.${nic}.rx_bytes_s`, 'rates.mem.used_pct', 'rates.vm.fault_s'];
      for (const path of paths) {
        const p = encodeURIComponent(path);
        for (const q of [`/api/v1/aggregate?host=${hosts[0]}&path=${p}&${w}`, `/api/v1/series?host=${hosts[1]}&path=${p}&${w}&step=1s`, `/api/v1/fleet?path=${p}&${w}`]) {
          const [a, b] = await Promise.all([getJson(`${server.url}${q}`), getJson(`${sqlite.url}${q}`)]);
          if (q.startsWith('/api/v1/fleet')) {
            // Online is each server's own view of when it last heard from a host.
            for (const x of [a, b]) for (const h of x.hosts as { online?: boolean }[]) delete h.online;
            delete a.hosts_online;
            delete b.hosts_online;
          }
          expect(a, q).toEqual(b);
        }
      }
      const agg = await getJson<{ count: number; avg: number }>(`${server.url}/api/v1/aggregate?host=${hosts[0]}&path=rates.cpu.all.busy&${w}`);
      expect(agg.count).toBe(kept[0].length - 1);

      // /export: the samples sent, as the TSDB keeps them, read back with readTimeSeriesJson.
      const exported = await get(`${server.url}/api/v1/export?hosts=${hosts.join(',')}`);
      expect(exported.status).toBe(200);
      const file = join(dir, `export-${which}.json`);
      writeFileSync(file, exported.text);
      const data = await readTimeSeriesJson(file);
      hosts.forEach((h, i) => {
        expect(data.samplesByHost.get(h)!.map((s) => s.toDict()), h).toEqual(kept[i]);
      });
      // The same file as the SQLite serve's (a TSDB keeps no order of a sample's keys: compared parsed).
      expect(JSON.parse(exported.text)).toEqual(JSON.parse((await get(`${sqlite.url}/api/v1/export?hosts=${hosts.join(',')}`)).text));

      // The dashboard's data and /metrics: the same.
      const report = `/api/v1/report?${w}`;
      const [ra, rb] = await Promise.all([getJson(`${server.url}${report}`), getJson(`${sqlite.url}${report}`)]);
      expect(Object.keys(ra.blobs as object).length).toBeGreaterThan(0);
      for (const r of [ra, rb]) delete (r.meta as { generatedAt?: string }).generatedAt;
      expect(ra).toEqual(rb);
      const [ma, mb] = await Promise.all([get(`${server.url}/metrics`), get(`${sqlite.url}/metrics`)]);
      expect(ma.text).toContain(`node_context_switches_total{instance="${hosts[0]}"}`);
      // The same lines (families in the order the sample's keys came: a TSDB keeps none).
      expect(ma.text.split('\n').sort()).toEqual(mb.text.split('\n').sort());

      // A push of samples the TSDB holds: duplicates, nothing written again.
      const again = await push(server.url, kept[0].slice(-3).map((d) => stringifyJson(d)).join('\n'), { authorization: `Bearer ${TOKEN}` });
      expect(again.body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
      for (const s of [server, sqlite]) {
        const r = await s.stop();
        expect(r.status, r.stderr).toBe(0);
      }
    }, 90_000);
  }

  it('points and table from the series of their paths, one host or many at once, equal those from whole sections; the matrix reader equals JSON.parse', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05, watch: ['self'] });
    await c.start();
    c.count('steps', 3);
    await sleep(700);
    const taken = (await c.stop()).map((s) => s.toDict());
    const hosts = ['full-a', 'full-b', 'full-c', 'no-cpu-line'].map((h) => `${h}-${process.pid}`);
    for (const db of [prom, vm]) {
      for (const [i, host] of hosts.entries()) {
        // The last host's samples without the aggregate CPU line (node_exporter's way): its reads fall back to whole sections.
        const o = i === 3 ? { ...FULL_FIDELITY, aggregateCpu: false } : FULL_FIDELITY;
        const dicts = taken.map((d) => ({ ...d, hostname: host, app: { steps: Number(d.app?.steps ?? 0) + i } }));
        await postWriteRequest(`${db.url}/api/v1/write`, new WriteRequestEncoder({ ...o, labels: { instance: host } }).encode(dicts));
      }
      if (db === vm) await fetch(`${vm.url}/internal/force_flush`);
      const store = new PrometheusStore({ url: db.url });
      try {
        await until('the hosts in the TSDB', async () => (await store.hosts()).filter((h) => hosts.includes(h.hostname) && h.samples === taken.length).length === hosts.length);
        const paths = pathsOf(taken[0]);
        expect(seriesOfPaths(paths, 'x')).toBeDefined();
        const from = BigInt(taken[2].timestamp_ns!);
        const to = BigInt(taken[taken.length - 3].timestamp_ns!);
        // Every host at once (batched into one query per label set), then each alone.
        const together = await Promise.all(hosts.map((h) => store.table(h, from, to, paths)));
        const pointsTogether = await Promise.all(hosts.map((h) => store.points(h, from, to, 'stat.cpu.idle')));
        for (const [i, h] of hosts.entries()) {
          const whole = await store.window(h, from, to);
          expect(whole.length, h).toBeGreaterThan(5);
          const general = tableOf(whole, paths);
          const alone = await store.table(h, from, to, paths);
          expect(alone.timesNs, h).toEqual(general.timesNs);
          expect(together[i].timesNs, h).toEqual(general.timesNs);
          paths.forEach((p, j) => {
            expect(Array.from(alone.columns[j]), `${h} ${p}`).toEqual(Array.from(general.columns[j]));
            expect(Array.from(together[i].columns[j]), `${h} ${p}`).toEqual(Array.from(general.columns[j]));
          });
          expect(pointsTogether[i], h).toEqual(pointsOf(whole, 'stat.cpu.idle'));
          for (const p of paths) expect(await store.points(h, from, to, p), `${h} ${p}`).toEqual(pointsOf(whole, p));
          // Some values at all, where the samples have them (not NaN = NaN throughout).
          expect(general.columns[paths.indexOf('stat.cpu.idle')].some((v) => v > 0), h).toBe(true);
        }
        // The hosts with the aggregate CPU line were read narrowed (not whole), the other whole.
        const spans = hosts.map((host) => ({ host, fromMs: Number(from / 1_000_000n), toMs: Number(to / 1_000_000n) + 1 }));
        const narrowed = await narrowSamples(new PromQuery({ url: db.url }), spans, from, to, seriesOfPaths(paths, SAMPLE_TIME)!);
        expect(hosts.map((h) => narrowed.get(h) !== undefined)).toEqual([true, true, true, false]);
        expect(narrowed.get(hosts[0])![0].diskstats!.length).toBe(1);
        // The matrix reader and JSON.parse read the TSDB's own answer alike.
        const q = new URLSearchParams({ query: `{instance=~"${hosts.join('|')}"}[1h]`, time: String(Number(to / 1_000_000n) / 1000 + 0.0005) });
        const text = await (await fetch(`${db.url}/api/v1/query?${q.toString()}`)).text();
        const json = (JSON.parse(text) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }).data.result;
        expect(json.length).toBeGreaterThan(100);
        expect(parseMatrix(text)).toEqual(json.map((r) => ({ metric: r.metric, points: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]) })));
      } finally {
        await store.close();
      }
    }
  }, 60_000);

  it("a host last sampled past the TSDB's lookback (5 min): its disks and interfaces asked on their own, the same", async () => {
    // /hosts reads the devices of every recent host in one query at now; an older host's by its own.
    const c = new TimeSeriesCollector({ intervalSeconds: 0.1 });
    await c.start();
    await sleep(400);
    const taken = (await c.stop()).map((x) => x.toDict());
    const shift = 10 * 60_000 * 1e6;
    for (const db of [prom, vm]) {
      const host = `old-${db === prom ? 'prom' : 'vm'}-${process.pid}`;
      const samples = taken.map((d) => ({ ...d, hostname: host, timestamp_ns: d.timestamp_ns! - shift, timestamp: new Date((d.timestamp_ns! - shift) / 1e6).toISOString().replace(/\.\d+Z$/, 'Z') }));
      const server = await serve(['--prometheus', db.url]);
      const r = await push(server.url, samples.map((d) => stringifyJson(d)).join('\n'), { authorization: `Bearer ${TOKEN}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      if (db === vm) await fetch(`${vm.url}/internal/force_flush`);
      const last = samples[samples.length - 1];
      const h = await until(`${host} listed`, async () => (await hostsOf(server.url)).find((x) => x.hostname === host && x.samples === samples.length));
      expect(h.last_sample).toBe(new Date(Math.floor(last.timestamp_ns / 1e6)).toISOString());
      expect(h.disks).toEqual(last.diskstats!.map((d) => d.device_name).sort(natural.compare));
      expect(h.interfaces).toEqual(last.netdev!.map((d) => d.interface_name).sort(natural.compare));
      // Its window read whole (bounded by what /hosts learnt of it).
      const agg = await getJson<{ count: number }>(`${server.url}/api/v1/aggregate?host=${host}&path=meminfo.MemAvailable&from=-1h&to=now`);
      expect(agg.count).toBe(samples.length);
      const stopped = await server.stop();
      expect(stopped.status, stopped.stderr).toBe(0);
    }
  }, 60_000);

  it('a push while the TSDB is down is answered 503 (the agent keeps it); once it is back the push is stored', async () => {
    const server = await serve(['--prometheus', prom.url]);
    const c = new TimeSeriesCollector({ intervalSeconds: 0.1 });
    await c.start();
    await sleep(500);
    const samples = (await c.stop()).map((s) => ({ ...s.toDict(), hostname: `down-${process.pid}` }));
    const body = samples.map((d) => stringifyJson(d)).join('\n');
    const auth = { authorization: `Bearer ${TOKEN}` };
    await prom.stop();
    try {
      const r = await push(server.url, body, auth);
      expect(r.status).toBe(503);
      expect(r.body.error).toMatch(/^the TSDB did not answer: .*unreachable/);
      const read = await get(`${server.url}/api/v1/hosts`);
      expect(read.status).toBe(503);
    } finally {
      await prom.restart();
    }
    const r = await push(server.url, body, auth);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ accepted: samples.length, duplicates: 0, rejected: [] });
    const [h] = (await hostsOf(server.url)).filter((x) => x.hostname === `down-${process.pid}`);
    expect(h.samples).toBe(samples.length);
    const stopped = await server.stop();
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain('the TSDB did not answer');
  }, 60_000);
});
