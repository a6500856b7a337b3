/**
 * `hostseries agent`, the real CLI against a real `hostseries serve` on loopback (nothing mocked):
 * three agents with their own hostnames push and every sample reads back exactly (each agent's
 * --tee copy against /export); the server is SIGKILLed for OUTAGE_SECONDS and restarted on the
 * same port and data: every sample arrives exactly once; an agent SIGKILLed with a queue is
 * restarted and delivers it; a wrong token stores nothing and says 401; a bound hit says what it
 * dropped; a bad config file is a clear error (exit 2); two agents on one queue: the second refuses.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { readTimeSeriesJsonl, TimeSeriesData } from '../lib/index.js';
import { parseJson } from '../lib/json/parse.js';
import type { SampleDict } from '../lib/index.js';
import { cli, cliWorkdir, ENV, start, type Started } from './support/cli.js';
import { startServe, type Server } from './support/serve.js';
import { startTlsProxy } from './support/tls-proxy.js';

/** How long the server is down (the issue asks for 30 s; HOSTSERIES_TEST_OUTAGE_S=30 runs that). */
const OUTAGE_SECONDS = Number(process.env.HOSTSERIES_TEST_OUTAGE_S ?? 6);
const TOKEN = 'agent-spec-token-0123456789';
/** The agent's longest retry delay (PushSink's default retryMaxSeconds). */
const RETRY_MAX_MS = 60_000;
const AGENT_ENV = { ...ENV, HOSTSERIES_TOKEN: TOKEN };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir = '';
cliWorkdir('hostseries-agent-', (d) => (dir = d));

const running: Started[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const a of running) if (a.child.exitCode === null) a.child.kill('SIGKILL');
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

async function serve(data: string, port = 0): Promise<Server> {
  const s = await startServe(['--data', join(dir, data), '--listen', `127.0.0.1:${port}`], dir, { HOSTSERIES_TOKEN: TOKEN });
  servers.push(s);
  return s;
}

function agent(args: string[], env: NodeJS.ProcessEnv = AGENT_ENV): Started {
  const a = start(['agent', ...args], { cwd: dir, env });
  running.push(a);
  return a;
}

async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const logged = (a: Started, re: RegExp): Promise<RegExpExecArray> => until(`${re} in:\n${a.stderr()}`, () => re.exec(a.stderr()) ?? undefined);

async function exported(url: string, host: string): Promise<SampleDict[]> {
  const r = await fetch(`${url}/api/v1/export?hosts=${encodeURIComponent(host)}`);
  expect(r.status).toBe(200);
  const data = TimeSeriesData.fromDict(parseJson(await r.text()));
  return (data.samplesByHost.get(host) ?? []).map((s) => s.toDict());
}

async function storedCount(url: string, host: string): Promise<number> {
  const r = await fetch(`${url}/api/v1/hosts/${encodeURIComponent(host)}`);
  return r.status === 200 ? ((await r.json()) as { samples: number }).samples : 0;
}

async function stop(a: Started): Promise<{ status: number | null; stderr: string }> {
  a.child.kill('SIGTERM');
  return a.done;
}

const tee = async (file: string, host: string): Promise<SampleDict[]> => ((await readTimeSeriesJsonl(file)).data.samplesByHost.get(host) ?? []).map((s) => s.toDict());

function strictlyIncreasing(samples: SampleDict[]): boolean {
  return samples.every((s, i) => i === 0 || (s.timestamp_ns ?? 0) > (samples[i - 1].timestamp_ns ?? 0));
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const STOPPED = /stopped: (\d+) samples taken since \S+, (\d+) delivered, (\d+) dropped, (\d+) left queued/;

describe('hostseries agent', () => {
  it(`three agents push; the server is SIGKILLed for ${OUTAGE_SECONDS} s and restarted on its port and data: every sample arrives exactly once`, async () => {
    let server = await serve('data-fleet');
    const port = Number(new URL(server.url).port);
    const hosts = ['fleet-a', 'fleet-b', 'fleet-c'];
    const agents = hosts.map((h) => agent([
      '--server', server.url, '-i', '0.2', '--push-interval', '0.5', '--hostname', h, '--tag', `name=${h}`, '--tag', 'rack=r1',
      '--queue-dir', join(dir, `q-${h}`), '--tee', join(dir, `${h}.jsonl`),
    ]));
    for (const a of agents) await logged(a, /connected to http:\/\/127\.0\.0\.1:\d+\n/);
    await until('samples of every host', async () => (await Promise.all(hosts.map((h) => storedCount(server.url, h)))).every((n) => n >= 3));

    server.child.kill('SIGKILL');
    await server.done;
    for (const a of agents) await logged(a, /cannot push to http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); queueing samples on disk in .* \(\d+ queued\), retrying with backoff\n/);
    await sleep(OUTAGE_SECONDS * 1000);
    server = await serve('data-fleet', port);
    // Full jitter: the next try comes within the backoff, up to 60 s after a long outage.
    for (const a of agents) await until('the backlog delivered', () => /delivered the backlog: \d+ samples\n/.test(a.stderr()), RETRY_MAX_MS + 15_000);
    await sleep(1000);
    const results = await Promise.all(agents.map(stop));

    for (const [i, h] of hosts.entries()) {
      const r = results[i];
      expect(r.status).toBe(0);
      const m = STOPPED.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      const [taken, delivered, dropped, left] = m!.slice(1).map(Number);
      expect({ delivered, dropped, left }).toEqual({ delivered: taken, dropped: 0, left: 0 });
      // One line per change of state, not one per push.
      expect(r.stderr.match(/cannot push/g)).toHaveLength(1);
      expect(r.stderr.match(/takes pushes again/g)).toHaveLength(1);
      const sent = await tee(join(dir, `${h}.jsonl`), h);
      expect(sent).toHaveLength(taken);
      const stored = await exported(server.url, h);
      expect(strictlyIncreasing(stored)).toBe(true);
      expect(stored).toEqual(sent);
      // Taken every 0.2 s through the outage: the outage is covered.
      const spanS = ((sent.at(-1)!.timestamp_ns ?? 0) - (sent[0].timestamp_ns ?? 0)) / 1e9;
      expect(spanS).toBeGreaterThan(OUTAGE_SECONDS);
      expect(readdirSync(join(dir, `q-${h}`))).toEqual([]);
    }
    const info = (await (await fetch(`${server.url}/api/v1/hosts/fleet-b`)).json()) as { tags: Record<string, string> };
    expect(info.tags).toEqual({ name: 'fleet-b', rack: 'r1' });
    await server.stop();
  }, 60_000 + OUTAGE_SECONDS * 1000 + RETRY_MAX_MS);

  it('an agent SIGKILLed with a queue is restarted and delivers it (the stale lock taken over)', async () => {
    let server = await serve('data-kill');
    const port = Number(new URL(server.url).port);
    server.child.kill('SIGKILL');
    await server.done;
    const q = join(dir, 'q-kill');
    const args = ['--server', `http://127.0.0.1:${port}`, '-i', '0.1', '--push-interval', '0.3', '--hostname', 'killed', '--queue-dir', q];
    const a = agent(args);
    await logged(a, /cannot push to/);
    await sleep(1500);
    a.child.kill('SIGKILL');
    await a.done;
    const queued = readdirSync(q).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(q, f), 'utf8').split('\n').filter(Boolean)).map((l) => Number((parseJson(l) as SampleDict).timestamp_ns));
    expect(queued.length).toBeGreaterThan(10);

    server = await serve('data-kill', port);
    const b = agent(args);
    await logged(b, new RegExp(`took over the lock of process ${a.child.pid}, which is gone`));
    await logged(b, new RegExp(`${queued.length} samples queued by an earlier run \\(.* to .*\\): delivering them first`));
    await logged(b, /delivered the backlog: \d+ samples/);
    const r = await stop(b);
    expect(r.status).toBe(0);
    const stored = await exported(server.url, 'killed');
    expect(strictlyIncreasing(stored)).toBe(true);
    const storedNs = new Set(stored.map((s) => s.timestamp_ns));
    expect(queued.filter((ns) => !storedNs.has(ns))).toEqual([]);
    expect(stored.length).toBe(queued.length + Number(STOPPED.exec(r.stderr)![1]));
    await server.stop();
  });

  it('a wrong token: nothing is stored, the agent says 401 and keeps the samples queued', async () => {
    const server = await serve('data-401');
    const a = agent(['--server', server.url, '-i', '0.1', '--push-interval', '0.2', '--hostname', 'wrong-token', '--queue-dir', join(dir, 'q-401')],
      { ...ENV, HOSTSERIES_TOKEN: 'a-wrong-token-0123456789' });
    await logged(a, /REFUSED by http:\/\/127\.0\.0\.1:\d+: HTTP 401: the token is not valid \(check the token\); \d+ samples stay queued, retrying every 60 s\n/);
    await sleep(500);
    const r = await stop(a);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/REFUSED/g)).toHaveLength(1);
    expect(Number(STOPPED.exec(r.stderr)![4])).toBeGreaterThan(0);
    expect(r.stderr).not.toContain('a-wrong-token');
    expect(await (await fetch(`${server.url}/api/v1/hosts`)).json()).toEqual({ hosts: [] });
    await server.stop();
  });

  it('a queue bound hit: the agent says what it dropped (count, time range)', async () => {
    const port = await closedPort();
    const a = agent(['--server', `http://127.0.0.1:${port}`, '-i', '0.05', '--push-interval', '0.2', '--hostname', 'bounded', '--queue-dir', join(dir, 'q-bound'), '--queue-max-bytes', '16k']);
    const m = await logged(a, /queue over its bound of 16 KiB: dropped the oldest (\d+) samples? \((\S+Z) to (\S+Z)\)\n/);
    expect(Number(m[1])).toBeGreaterThan(0);
    expect(Date.parse(m[2])).toBeLessThanOrEqual(Date.parse(m[3]));
    const r = await stop(a);
    expect(r.status).toBe(0);
    expect(Number(STOPPED.exec(r.stderr)![3])).toBeGreaterThan(0);
  });

  it('a bad config file, a bad flag: a clear error naming the input, exit 2; two agents on one queue: the second refuses', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server: http://127.0.0.1:9\ntoken-file: token\npush_intervall: 10\n');
    let r = cli(['agent', '--config', bad], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`hostseries: --config ${bad}: unknown key "push_intervall" (known: server, token, token-file, interval, push-interval, tags,`);
    writeFileSync(bad, 'server: http://127.0.0.1:9\n  tags: [a\n');
    r = cli(['agent', '--config', bad], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`hostseries: --config ${bad}: not valid YAML: .* at line \\d+, column \\d+\n`));
    writeFileSync(bad, 'server: http://127.0.0.1:9\ninterval: often\n');
    r = cli(['agent', '--config', bad], { cwd: dir, env: AGENT_ENV });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`hostseries: --config ${bad}: interval: Expected a duration in seconds`);
    r = cli(['agent', '--server', 'localhost:9000'], { cwd: dir, env: AGENT_ENV });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('hostseries: --server: expected an http:// or https:// URL such as http://aggregator:9000, got "localhost:9000"');
    r = cli(['agent', '--server', 'http://127.0.0.1:9', '--token-file', join(dir, 'no-such-token')], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`hostseries: --token-file ${join(dir, 'no-such-token')}: cannot read the token: ENOENT`);
    r = cli(['agent', '--server', 'http://127.0.0.1:9', '--tag', 'rack'], { cwd: dir, env: AGENT_ENV });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Expected key=value, got "rack"');

    // The config file's settings are used (relative paths from its directory), and a flag wins.
    const server = await serve('data-config');
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const good = join(dir, 'agent.yaml');
    writeFileSync(good, `server: ${server.url}\ntoken-file: token\ninterval: 0.1\npush-interval: 0.2\nhostname: from-config\nqueue-dir: q-config\ntags:\n  rack: r9\n`);
    const a = agent(['--config', good, '--hostname', 'from-flag'], ENV);
    await logged(a, /connected to/);
    expect(a.stderr()).toContain(`token from token-file ${join(dir, 'token')}; queue in ${join(dir, 'q-config')}; tags rack=r9`);
    const twin = cli(['agent', '--config', good], { cwd: dir, env: ENV });
    expect(twin.status).toBe(1);
    expect(twin.stderr).toBe(`hostseries: ${join(dir, 'q-config')}: the queue directory is in use by process ${a.child.pid} (another hostseries agent?); give each agent its own queue directory\n`);
    expect((await stop(a)).status).toBe(0);
    expect(await storedCount(server.url, 'from-flag')).toBeGreaterThan(0);
    await server.stop();
  });
  it("https with a self-signed certificate: trusted with --ca, refused without it (said as a certificate to trust), --insecure warns", async () => {
    const server = await serve('data-tls');
    const proxy = await startTlsProxy(dir, Number(new URL(server.url).port));
    try {
      const common = ['--server', proxy.url, '-i', '0.1', '--push-interval', '0.2'];
      const trusted = agent([...common, '--hostname', 'tls-ca', '--ca', proxy.certFile, '--queue-dir', join(dir, 'q-tls-ca')]);
      const untrusted = agent([...common, '--hostname', 'tls-none', '--queue-dir', join(dir, 'q-tls-none')]);
      const insecure = agent([...common, '--hostname', 'tls-insecure', '--insecure', '--queue-dir', join(dir, 'q-tls-insecure')]);
      await logged(trusted, /connected to https:\/\/127\.0\.0\.1:\d+\n/);
      await logged(insecure, /connected to https:/);
      await logged(untrusted, /REFUSED by https:\/\/127\.0\.0\.1:\d+: .*SELF_SIGNED.* \(the server's certificate is not trusted: give its CA \(--ca FILE \/ ca\)\); \d+ samples stay queued, retrying every 60 s\n/);
      const [a, b, c] = await Promise.all([stop(trusted), stop(untrusted), stop(insecure)]);
      expect([a.status, b.status, c.status]).toEqual([0, 0, 0]);
      expect(c.stderr).toContain("warning: --insecure: the server's certificate is not checked");
      expect(Number(STOPPED.exec(a.stderr)![4])).toBe(0);
      expect(await storedCount(server.url, 'tls-ca')).toBe(Number(STOPPED.exec(a.stderr)![1]));
      expect(await storedCount(server.url, 'tls-none')).toBe(0);
      expect(await storedCount(server.url, 'tls-insecure')).toBeGreaterThan(0);
    } finally {
      await proxy.close();
      await server.stop();
    }
  });
  it("a queue disk that fails (writes past ulimit -f: EFBIG, as a full disk) is said once; the samples go from memory meanwhile", async () => {
    const server = await serve('data-efbig');
    const a = start(['agent', '--server', server.url, '-i', '0.1', '--push-interval', '0.3', '--hostname', 'efbig', '--queue-dir', join(dir, 'q-efbig')],
      { cwd: dir, env: AGENT_ENV, fileSizeBlocks: 8 });
    running.push(a);
    await logged(a, /cannot write the queue segment \(samples are kept in memory meanwhile\): EFBIG/);
    await logged(a, /connected to/);
    await sleep(1000);
    const r = await stop(a);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/cannot write the queue segment/g)).toHaveLength(1);
    const [taken, delivered, dropped, left] = STOPPED.exec(r.stderr)!.slice(1).map(Number);
    expect({ delivered, dropped, left }).toEqual({ delivered: taken, dropped: 0, left: 0 });
    expect(await storedCount(server.url, 'efbig')).toBe(taken);
    await server.stop();
  });
});
