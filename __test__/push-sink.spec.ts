/**
 * PushSink, the library form of the agent, against a real `hostseries serve` on loopback: a
 * collector's samples read back exactly through /export; the disk queue keeps what an outage
 * or a restart leaves and delivers it (a torn last line skipped); its bounds drop the oldest and
 * say so; samples the server rejects are said and dropped; one PushSink per queue directory,
 * a stale lock taken over.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PushSink, QueueLockedError, TimeSeriesCollector, TimeSeriesData, TimeSeriesSample } from '../lib/index.js';
import { parseJson } from '../lib/json/parse.js';
import type { PushDrop, PushStateChange, SampleDict } from '../lib/index.js';
import { cliWorkdir } from './support/cli.js';
import { startServe, type Server } from './support/serve.js';

const TOKEN = 'push-sink-token-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir = '';
cliWorkdir('hostseries-push-', (d) => (dir = d));

let server: Server;
beforeAll(async () => {
  server = await startServe(['--data', join(dir, 'data')], dir, { HOSTSERIES_TOKEN: TOKEN });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** A port nothing listens on (taken, then freed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function exported(host: string): Promise<SampleDict[]> {
  const r = await fetch(`${server.url}/api/v1/export?hosts=${encodeURIComponent(host)}`);
  expect(r.status).toBe(200);
  const data = TimeSeriesData.fromDict(parseJson(await r.text()));
  return (data.samplesByHost.get(host) ?? []).map((s) => s.toDict());
}

function logger(): { lines: string[]; warn: (m: string) => void; info: (m: string) => void } {
  const lines: string[] = [];
  return { lines, warn: (m) => lines.push(`warn: ${m}`), info: (m) => lines.push(`info: ${m}`) };
}

/** `n` real samples of `host`, a few ms apart. */
async function realSamples(host: string, n: number): Promise<TimeSeriesSample[]> {
  const c = new TimeSeriesCollector({ intervalSeconds: 0.02, hostname: host, metrics: ['loadavg', 'meminfo'] });
  await c.start();
  while (c.sampleCount < n) await sleep(20);
  return (await c.stop()).slice(0, n);
}

const queueFiles = (q: string): string[] => readdirSync(q).filter((f) => f.endsWith('.jsonl')).sort();

describe('PushSink', () => {
  it("a collector with a PushSink pushes every sample; /export gives them back exactly", async () => {
    const log = logger();
    const sink = new PushSink({ server: server.url, token: TOKEN, pushIntervalSeconds: 0.2, tags: { rack: 'r1' }, logger: log, queueDir: join(dir, 'q-lib') });
    const pushes: number[] = [];
    sink.on('push', (p) => pushes.push(p.samples));
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05, hostname: 'lib-host', sink, watch: ['self'] });
    await c.start();
    c.count('steps', 3);
    await sleep(1500);
    const samples = (await c.stop()).map((s) => s.toDict());
    expect(samples.length).toBeGreaterThan(15);
    expect(sink.counts).toEqual({ received: samples.length, delivered: samples.length, dropped: 0 });
    expect(sink.queued.samples).toBe(0);
    expect(queueFiles(join(dir, 'q-lib'))).toEqual([]);
    expect(pushes.length).toBeGreaterThan(3);
    expect(await exported('lib-host')).toEqual(samples);
    const host = (await (await fetch(`${server.url}/api/v1/hosts/lib-host`)).json()) as { tags: Record<string, string>; agent_version: string };
    expect(host.tags).toEqual({ rack: 'r1' });
    expect(host.agent_version).toMatch(/^hostseries\//);
    expect(log.lines).toEqual([`info: connected to ${server.url}`]);
  });

  it('queues on disk while the server is unreachable; a new PushSink on the queue delivers it oldest first, a torn last line skipped', async () => {
    const q = join(dir, 'q-outage');
    const port = await closedPort();
    const log = logger();
    const states: PushStateChange[] = [];
    const down = new PushSink({ server: `http://127.0.0.1:${port}`, token: TOKEN, queueDir: q, pushIntervalSeconds: 0.05, retryInitialSeconds: 0.05, closeTimeoutSeconds: 0.3, logger: log });
    down.on('state', (s) => states.push(s));
    await down.open();
    const samples = await realSamples('outage-host', 40);
    for (const s of samples.slice(0, 20)) down.write(s);
    await sleep(300);
    for (const s of samples.slice(20)) down.write(s);
    await sleep(200);
    expect(down.state).toBe('unreachable');
    expect(states.map((s) => s.state)).toEqual(['unreachable']);
    expect(log.lines.filter((l) => l.includes('cannot push'))).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^warn: cannot push to http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); queueing samples on disk in .*q-outage \(\d+ queued\)/);
    await down.close();
    expect(log.lines.at(-1)).toMatch(/stopped with 40 samples still queued in .*q-outage \(.*\): delivered at the next start/);
    // On disk: every sample, one a line, in order.
    const files = queueFiles(q);
    const lines = files.flatMap((f) => readFileSync(join(q, f), 'utf8').split('\n').filter(Boolean));
    expect(lines.map((l) => TimeSeriesSample.fromDict(parseJson(l)).toDict())).toEqual(samples.map((s) => s.toDict()));
    // A kill mid-write leaves a torn line at the end of the last file.
    const torn = '{"timestamp":"2026-01-01T00:00:00Z","timestamp_ns":17672256000000';
    appendFileSync(join(q, files.at(-1)!), torn);

    const log2 = logger();
    const up = new PushSink({ server: server.url, token: TOKEN, queueDir: q, pushIntervalSeconds: 0.1, logger: log2 });
    await up.open();
    expect(log2.lines[0]).toBe(`warn: ${join(q, files.at(-1)!)}: skipped a torn last line (${torn.length} bytes; the previous run was killed mid-write)`);
    expect(log2.lines[1]).toMatch(/^info: 40 samples queued by an earlier run \(.* to .*\): delivering them first$/);
    const left = await up.deliver(10_000);
    expect(left.samples).toBe(0);
    await up.close();
    expect(log2.lines.slice(2)).toEqual([`info: connected to ${server.url}`, 'info: delivered the backlog: 40 samples']);
    expect(await exported('outage-host')).toEqual(samples.map((s) => s.toDict()));
    expect(queueFiles(q)).toEqual([]);
  });

  it('past the byte bound the oldest samples are dropped, and said so with their count and time range', async () => {
    const port = await closedPort();
    const log = logger();
    const drops: PushDrop[] = [];
    const sink = new PushSink({ server: `http://127.0.0.1:${port}`, token: TOKEN, queueDir: join(dir, 'q-bound'), maxQueueBytes: 16 * 1024, pushIntervalSeconds: 0.05, retryInitialSeconds: 0.02, retryMaxSeconds: 0.05, closeTimeoutSeconds: 0, logger: log });
    sink.on('drop', (d) => drops.push(d));
    await sink.open();
    const samples = await realSamples('bound-host', 60);
    for (const s of samples) sink.write(s);
    await sleep(300);
    await sink.close();
    const dropped = drops.reduce((n, d) => n + d.count, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(drops.every((d) => d.reason === 'bytes')).toBe(true);
    // What is left is the newest, within the bound; what went is the oldest.
    const left = sink.queued;
    expect(left.samples + dropped).toBe(60);
    expect(left.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(left.newestNs).toBe(samples[59].timestampNs);
    expect(drops[0].fromNs).toBe(samples[0].timestampNs);
    expect(log.lines.some((l) => /^warn: queue over its bound of 16 KiB: dropped the oldest \d+ samples? \(\d{4}-.*Z to .*Z\)$/.test(l))).toBe(true);
  });

  it('samples the server rejects are said with their reason and dropped; the others are stored', async () => {
    const log = logger();
    const sink = new PushSink({ server: server.url, token: TOKEN, pushIntervalSeconds: 0.1, logger: log });
    const drops: PushDrop[] = [];
    sink.on('drop', (d) => drops.push(d));
    await sink.open();
    const [a, b] = await realSamples('reject-host', 2);
    // A sample whose timestamp is not the whole second of its timestamp_ns: the server refuses it.
    const bad = TimeSeriesSample.fromDict({ ...b.toDict(), timestamp: '2001-01-01T00:00:00Z' });
    sink.write(a);
    sink.write(bad);
    expect((await sink.deliver(5000)).samples).toBe(0);
    await sink.close();
    expect(drops).toEqual([expect.objectContaining({ reason: 'rejected', count: 1 })]);
    expect(log.lines.some((l) => l.startsWith('warn: the server rejected 1 sample') && l.includes('#1 timestamp: expected the whole UTC second'))).toBe(true);
    expect(await exported('reject-host')).toEqual([a.toDict()]);
    expect(sink.counts).toEqual({ received: 2, delivered: 1, dropped: 1 });
  });

  it('a wrong token: refused (401), said once, the samples stay queued', async () => {
    const log = logger();
    const sink = new PushSink({ server: server.url, token: 'not-the-token-0123456789', pushIntervalSeconds: 0.05, queueDir: join(dir, 'q-401'), closeTimeoutSeconds: 1, logger: log });
    await sink.open();
    for (const s of await realSamples('refused-host', 3)) sink.write(s);
    await sleep(400);
    expect(sink.state).toBe('refused');
    await sink.close();
    expect(log.lines.filter((l) => l.includes('REFUSED'))).toEqual([
      expect.stringMatching(/^warn: REFUSED by http:\/\/127\.0\.0\.1:\d+: HTTP 401: the token is not valid \(check the token\); 3 samples stay queued, retrying every 60 s$/),
    ]);
    expect(sink.queued.samples).toBe(3);
    expect((await fetch(`${server.url}/api/v1/hosts/refused-host`)).status).toBe(404);
  });

  it('one PushSink per queue directory; the lock of a process that is gone is taken over', async () => {
    const q = join(dir, 'q-lock');
    const first = new PushSink({ server: server.url, token: TOKEN, queueDir: q });
    await first.open();
    const second = new PushSink({ server: server.url, token: TOKEN, queueDir: q });
    const err = await second.open().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(QueueLockedError);
    expect((err as QueueLockedError).code).toBe('ERR_QUEUE_LOCKED');
    expect((err as Error).message).toBe(`${q}: the queue directory is in use by process ${process.pid} (another hostseries agent?); give each agent its own queue directory`);
    await first.close();
    // A lock left by a process that died (a SIGKILLed agent).
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    mkdirSync(q, { recursive: true });
    writeFileSync(join(q, 'lock'), `${dead} 12345\n`);
    const log = logger();
    const third = new PushSink({ server: server.url, token: TOKEN, queueDir: q, logger: log });
    await third.open();
    expect(log.lines).toEqual([`warn: ${q}: took over the lock of process ${dead}, which is gone`]);
    expect(readFileSync(join(q, 'lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    await third.close();
    expect(readdirSync(q)).toEqual([]);
  });

  it('names the option at fault', () => {
    expect(() => new PushSink({ server: 'ftp://x', token: TOKEN })).toThrow('server: expected an http:// or https:// URL such as http://aggregator:9000, got "ftp://x"');
    expect(() => new PushSink({ server: 'http://x:9000', token: 'a b' })).toThrow('token: a token must not contain white space or control characters');
    expect(() => new PushSink({ server: 'http://x:9000', token: TOKEN, tags: { 'a,b': 'c' } })).toThrow('tags.a,b: a tag key must be non-empty');
    expect(() => new PushSink({ server: 'http://x:9000', token: TOKEN, pushIntervalSeconds: 0 })).toThrow('pushIntervalSeconds must be a number from 0.01 to 86400, got 0');
  });
  it('without a queue directory: queued in memory; what close() could not deliver is in unwritten', async () => {
    const port = await closedPort();
    const log = logger();
    const sink = new PushSink({ server: `http://127.0.0.1:${port}`, token: TOKEN, pushIntervalSeconds: 0.05, closeTimeoutSeconds: 0.2, logger: log });
    await sink.open();
    const samples = await realSamples('memory-host', 5);
    for (const s of samples) sink.write(s);
    await sink.close();
    expect(sink.unwritten.map((e) => e.sample.toDict())).toEqual(samples.map((s) => s.toDict()));
    expect(log.lines.at(-1)).toMatch(/^warn: stopped with 5 samples not delivered \(.*\) \(no queue directory: they are in sink\.unwritten only\)$/);
  });
});
