/**
 * Running `hostseries serve` for real: HTTPS with a self-signed certificate made here (openssl),
 * the certificate flags' errors; retention deleting whole old chunks at start and periodically
 * while recent ones stay; `--cache 0` answering as the cache does; a host's online state right
 * after the server restarts.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

import { stringifyJson, TimeSeriesCollector } from '../lib/index.js';
import { isoSeconds } from '../lib/native/decode.js';
import type { SampleDict } from '../lib/types/sample.js';
import { cli, cliWorkdir } from './support/cli.js';
import { push, startServe } from './support/serve.js';

const TOKEN = 'ops-spec-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const env = { HOSTSERIES_TOKEN: TOKEN };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir = '';
cliWorkdir('hostseries-serve-ops-', (d) => (dir = d));

let real: SampleDict[] = [];
beforeAll(async () => {
  const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
  await c.start();
  await sleep(400);
  real = (await c.stop()).map((s) => s.toDict());
}, 30_000);

/** `n` samples of `host` one second apart from `startMs` (a real sample's values, restamped). */
function restamped(host: string, startMs: number, n: number): SampleDict[] {
  return Array.from({ length: n }, (_, i) => {
    const ns = (startMs + i * 1000) * 1e6;
    return { ...real[i % real.length], hostname: host, timestamp_ns: ns, timestamp: isoSeconds(startMs + i * 1000) };
  });
}

/** An HTTPS GET trusting `ca` only. */
function httpsGet(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

async function hostsOf(url: string): Promise<Record<string, { samples: number; online: boolean; first_sample: string | null }>> {
  const r = (await (await fetch(`${url}/api/v1/hosts`)).json()) as { hosts: { hostname: string; samples: number; online: boolean; first_sample: string | null }[] };
  return Object.fromEntries(r.hosts.map((h) => [h.hostname, h]));
}

describe('hostseries serve: TLS, retention, restarts', () => {
  it('--tls-cert/--tls-key serve HTTPS (a self-signed certificate); one without the other, or an unreadable file, is a usage error naming it', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const s = await startServe(['--data', join(dir, 'tls'), '--tls-cert', cert, '--tls-key', key], dir, env);
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(cert);
      const body = stringifyJson(real.slice(0, 3));
      const pushed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${s.url}/api/v1/samples`, { method: 'POST', ca, headers: auth }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject).end(body);
      });
      expect(pushed).toEqual({ status: 200, body: JSON.stringify({ accepted: 3, duplicates: 0, rejected: [] }) });
      const hosts = await httpsGet(`${s.url}/api/v1/hosts/${encodeURIComponent(real[0].hostname)}`, ca);
      expect(hosts.status).toBe(200);
      expect(JSON.parse(hosts.body)).toMatchObject({ samples: 3 });
      // Plain HTTP to the HTTPS port is not served; a client that does not trust the certificate is refused.
      await expect(fetch(s.url.replace('https:', 'http:') + '/api/v1/hosts')).rejects.toThrow();
      await expect(httpsGet(`${s.url}/api/v1/hosts`, Buffer.from(''))).rejects.toThrow();
    } finally {
      expect((await s.stop()).status).toBe(0);
    }
    const data = ['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'tls-bad')];
    const onlyCert = cli([...data, '--tls-cert', cert], { cwd: dir, env });
    expect([onlyCert.status, onlyCert.stderr]).toEqual([2, expect.stringMatching(/--tls-cert and --tls-key go together/)]);
    const missing = cli([...data, '--tls-cert', cert, '--tls-key', join(dir, 'nope.pem')], { cwd: dir, env });
    expect([missing.status, missing.stderr]).toEqual([2, expect.stringMatching(/--tls-key .*nope\.pem: ENOENT/)]);
    writeFileSync(join(dir, 'garbage.pem'), 'not a key\n');
    const garbage = cli([...data, '--tls-cert', cert, '--tls-key', join(dir, 'garbage.pem')], { cwd: dir, env });
    expect(garbage.status).not.toBe(0);
    expect(garbage.stderr).toMatch(/garbage\.pem/);
  }, 60_000);

  it('--retention deletes whole chunks whose last sample is older, at start and periodically; recent samples stay; a host left with none is kept with 0', async () => {
    const data = join(dir, 'retention');
    const now = Date.now();
    const day = 86_400_000;
    const s = await startServe(['--data', data], dir, env);
    // old-a: 256 samples 40 days ago (two closed chunks) then 5 now; old-b: only 40 days ago.
    expect((await push(s.url, stringifyJson(restamped('old-a', now - 40 * day, 256)), auth)).body.accepted).toBe(256);
    expect((await push(s.url, stringifyJson(restamped('old-a', now - 5000, 5)), auth)).body.accepted).toBe(5);
    expect((await push(s.url, stringifyJson(restamped('old-b', now - 40 * day, 130)), auth)).body.accepted).toBe(130);
    expect((await s.stop()).status).toBe(0);

    const r = await startServe(['--data', data, '--retention', '30d'], dir, env);
    try {
      expect(r.stderr()).toMatch(/retention: deleted 4 chunks \(386 samples\)/);
      const hosts = await hostsOf(r.url);
      expect(hosts['old-a']).toMatchObject({ samples: 5 });
      expect(new Date(hosts['old-a'].first_sample!).getTime()).toBeGreaterThan(now - 10_000);
      expect(hosts['old-b']).toMatchObject({ samples: 0, first_sample: null });
      const exported = (await (await fetch(`${r.url}/api/v1/export?hosts=old-a,old-b`)).json()) as { samples_by_host: Record<string, SampleDict[]> };
      expect(exported.samples_by_host['old-a'].map((d) => d.timestamp_ns)).toEqual(restamped('old-a', now - 5000, 5).map((d) => d.timestamp_ns));
      expect(exported.samples_by_host['old-b']).toEqual([]);
      // The old samples pushed again are stored again (they were deleted, not hidden) and go at the next check.
    } finally {
      expect((await r.stop()).status).toBe(0);
    }

    // Periodically: --retention 5s checks every second.
    const p = await startServe(['--data', join(dir, 'retention-live'), '--retention', '5s'], dir, env);
    try {
      expect((await push(p.url, stringifyJson(restamped('live', Date.now() - 200_000, 128)), auth)).body.accepted).toBe(128);
      expect((await push(p.url, stringifyJson(restamped('live', Date.now(), 3)), auth)).body.accepted).toBe(3);
      const deadline = Date.now() + 5000;
      while ((await hostsOf(p.url)).live.samples !== 3 && Date.now() < deadline) await sleep(200);
      expect((await hostsOf(p.url)).live.samples).toBe(3);
      expect(p.stderr()).toMatch(/retention: deleted 1 chunk \(128 samples\)/);
    } finally {
      expect((await p.stop()).status).toBe(0);
    }
    const bad = cli(['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'x'), '--retention', '30'], { cwd: dir, env });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringMatching(/--retention.*unit \(s, m, h, d\)/)]);
  }, 60_000);

  it('--cache 0 keeps no chunk and answers as the default cache does (closed, open and late-joined chunks); a size below 1k is a usage error', async () => {
    const data = join(dir, 'cache');
    const start = Date.now() - 600_000;
    const s = await startServe(['--data', data], dir, env);
    // 300 samples: two closed chunks and an open one; then 20 late ones that join the open chunk.
    const all = restamped('c1', start, 300);
    const late = all.filter((_d, i) => i % 15 === 7);
    expect((await push(s.url, stringifyJson(all.filter((_d, i) => i % 15 !== 7)), auth)).body.accepted).toBe(280);
    expect((await push(s.url, stringifyJson(late), auth)).body.accepted).toBe(20);
    expect((await s.stop()).status).toBe(0);
    const paths = ['meminfo.MemAvailable', 'rates.cpu.all.busy', 'loadavg.load_1min'];
    const read = async (url: string): Promise<unknown[]> => Promise.all(paths.map(async (path) => {
      const q = `host=c1&path=${path}&from=${start * 1e6}&to=${(start + 300_000) * 1e6}`;
      return [await (await fetch(`${url}/api/v1/series?${q}&step=7s`)).json(), await (await fetch(`${url}/api/v1/aggregate?${q}`)).json()];
    }));
    const cached = await startServe(['--data', data], dir, env);
    const bare = await startServe(['--data', data, '--cache', '0'], dir, env);
    try {
      const a = await read(cached.url);
      // Asked twice: the second time from what the first left in the cache.
      expect(await read(cached.url)).toEqual(a);
      expect(await read(bare.url)).toEqual(a);
      expect((a[0] as [{ points: { count: number }[] }])[0].points.reduce((n, p) => n + p.count, 0)).toBe(300);
    } finally {
      expect((await cached.stop()).status).toBe(0);
      expect((await bare.stop()).status).toBe(0);
    }
    const bad = cli(['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'x'), '--cache', '12'], { cwd: dir, env });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringMatching(/option '--cache <size>' argument '12' is invalid. A size of at least 1k is needed/)]);
  }, 60_000);

  it('a queue delivered in a burst (a push a sample, ms apart) keeps the host\'s push interval: it stays online; a slower agent is seen as slower', async () => {
    const s = await startServe(['--data', join(dir, 'burst')], dir, env);
    try {
      const t = Date.now() - 120_000;
      const at = (ms: number): SampleDict[] => restamped('b1', ms, 1);
      // Samples 5 s apart: the interval is 5 s.
      expect((await push(s.url, stringifyJson([...at(t), ...at(t + 5000)]), auth)).body.accepted).toBe(2);
      // The agent's queue after an outage: 12 pushes of one sample each, one right after the other.
      for (let k = 2; k < 14; k++) expect((await push(s.url, stringifyJson(at(t + k * 5000)), auth)).body.accepted).toBe(1);
      expect(await (await fetch(`${s.url}/api/v1/hosts/b1`)).json()).toMatchObject({ online: true, push_interval_seconds: 5, offline_after_seconds: 15 });
      // A push 1.5 s later whose sample is 5 s on: the interval is not made shorter either.
      await sleep(1500);
      expect((await push(s.url, stringifyJson(at(t + 14 * 5000)), auth)).body.accepted).toBe(1);
      expect(await (await fetch(`${s.url}/api/v1/hosts/b1`)).json()).toMatchObject({ push_interval_seconds: 5 });
      // A clock stepped an hour forward does not make the interval an hour.
      expect((await push(s.url, stringifyJson(at(t + 3_600_000)), auth)).body.accepted).toBe(1);
      expect(await (await fetch(`${s.url}/api/v1/hosts/b1`)).json()).toMatchObject({ push_interval_seconds: 5 });
      // An agent now pushing every 6 s is seen to.
      await sleep(6000);
      expect((await push(s.url, stringifyJson(at(t + 3_606_000)), auth)).body.accepted).toBe(1);
      const h = await (await fetch(`${s.url}/api/v1/hosts/b1`)).json() as { push_interval_seconds: number };
      expect(h.push_interval_seconds).toBeGreaterThanOrEqual(6);
      expect(h.push_interval_seconds).toBeLessThan(60);
    } finally {
      expect((await s.stop()).status).toBe(0);
    }
  }, 60_000);

  it('a host online before a restart is online right after it (its last push and push interval are stored), the outage not taken for its interval; offline as before once silent', async () => {
    const data = join(dir, 'restart');
    const s = await startServe(['--data', data], dir, env);
    const t = Date.now();
    expect((await push(s.url, stringifyJson(restamped('r1', t - 2000, 2)), auth)).body.accepted).toBe(2);
    await sleep(1100);
    expect((await push(s.url, stringifyJson(restamped('r1', t, 1)), auth)).body.accepted).toBe(1);
    const before = await (await fetch(`${s.url}/api/v1/hosts/r1`)).json() as Record<string, unknown>;
    expect(before).toMatchObject({ online: true });
    s.child.kill('SIGKILL');
    await s.done;
    const r = await startServe(['--data', data], dir, env);
    try {
      const after = await (await fetch(`${r.url}/api/v1/hosts/r1`)).json() as Record<string, unknown>;
      expect(after).toMatchObject({ online: true, last_seen: before.last_seen, push_interval_seconds: before.push_interval_seconds, offline_after_seconds: before.offline_after_seconds });
      // The first push after the restart: the server's outage is not taken for the agent's interval.
      await sleep(500);
      expect((await push(r.url, stringifyJson(restamped('r1', Date.now(), 1)), auth)).body.accepted).toBe(1);
      expect(await (await fetch(`${r.url}/api/v1/hosts/r1`)).json()).toMatchObject({ push_interval_seconds: before.push_interval_seconds });
      // Silent past 3 push intervals (~1.1 s each): offline, as it would have been without the restart.
      await sleep((before.offline_after_seconds as number) * 1000 + 300);
      expect(await (await fetch(`${r.url}/api/v1/hosts/r1`)).json()).toMatchObject({ online: false });
    } finally {
      expect((await r.stop()).status).toBe(0);
    }
  }, 60_000);
});
