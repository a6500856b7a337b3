/**
 * `hostseries serve` start and stop: it refuses to start without a token (except --no-auth on
 * loopback); a SIGKILL right after a 200 loses nothing (restarted, the samples are there); SIGTERM
 * lets a push in flight finish, then exits 0; --read-token guards the read routes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { readTimeSeriesJson, stringifyJson, TimeSeriesCollector } from '../lib/index.js';
import type { SampleDict } from '../lib/types/sample.js';
import { cli, cliWorkdir } from './support/cli.js';
import { push, startServe } from './support/serve.js';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const TOKEN = 'lifecycle-token-0123456789';
const bearer = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir = '';
cliWorkdir('hostseries-serve-life-', (d) => (dir = d));

async function samples(n: number): Promise<SampleDict[]> {
  const c = new TimeSeriesCollector({ intervalSeconds: 0.01 });
  await c.start();
  while (c.sampleCount < n) await sleep(20);
  return (await c.stop()).slice(0, n).map((s) => s.toDict());
}

describe('hostseries serve: start and stop', () => {
  it('refuses to start without a token, and --no-auth off loopback; a short token is refused', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.HOSTSERIES_TOKEN;
    delete env.HOSTSERIES_READ_TOKEN;
    const none = cli(['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'x')], { cwd: dir, env });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/give a write token/);
    const open = cli(['serve', '--listen', '0.0.0.0:0', '--no-auth', '--data', join(dir, 'x')], { cwd: dir, env });
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/only allowed on a loopback address/);
    const short = cli(['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'x')], { cwd: dir, env: { ...env, HOSTSERIES_TOKEN: 'short' } });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/at least 16 characters/);
    expect(short.stderr).not.toMatch(/short\b.*short/);
  });

  it('a SIGKILL right after a 200 loses nothing (pushes out of order across chunks included): restarted on the same data, the samples are there', async () => {
    const data = join(dir, 'killed');
    const dicts = await samples(300);
    const host = dicts[0].hostname;
    let s = await startServe(['--data', data], dir, { HOSTSERIES_TOKEN: TOKEN });
    // Pushes of 50, newest first (a queue delivered out of order): closed chunks whose times
    // overlap, and an open one; read back in time order all the same.
    for (let i = dicts.length - 50; i >= 0; i -= 50) {
      expect((await push(s.url, stringifyJson(dicts.slice(i, i + 50)), bearer)).body.accepted).toBe(50);
    }
    s.child.kill('SIGKILL');
    expect((await s.done).signal).toBe('SIGKILL');
    s = await startServe(['--data', data], dir, { HOSTSERIES_TOKEN: TOKEN });
    try {
      const r = await fetch(`${s.url}/api/v1/export?hosts=${encodeURIComponent(host)}`);
      const file = join(dir, 'after-kill.json');
      writeFileSync(file, Buffer.from(await r.arrayBuffer()));
      const back = await readTimeSeriesJson(file);
      expect(stringifyJson(back.samplesByHost.get(host)!.map((x) => x.toDict()))).toBe(stringifyJson(dicts));
      // And retried after the restart: all duplicates.
      expect((await push(s.url, stringifyJson(dicts), bearer)).body).toEqual({ accepted: 0, duplicates: dicts.length, rejected: [] });
    } finally {
      await s.stop();
    }
  }, 60_000);

  it('SIGTERM lets a push in flight finish (200), then exits 0', async () => {
    const s = await startServe(['--data', join(dir, 'term')], dir, { HOSTSERIES_TOKEN: TOKEN });
    const body = Buffer.from(stringifyJson(await samples(20)));
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const stream = new ReadableStream<Uint8Array>({
      async start(ctl) {
        ctl.enqueue(body.subarray(0, 100));
        await held;
        ctl.enqueue(body.subarray(100));
        ctl.close();
      },
    });
    const inFlight = fetch(`${s.url}/api/v1/samples`, { method: 'POST', body: stream, headers: bearer, duplex: 'half' });
    await sleep(300);
    s.child.kill('SIGTERM');
    await sleep(300);
    release();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ accepted: 20 });
    const done = await s.done;
    expect(done.status).toBe(0);
    expect(done.stderr).toMatch(/SIGTERM: finishing requests in flight[\s\S]*stopped/);
    expect(done.stderr).not.toContain(TOKEN);
  }, 30_000);

  it('a tokens file with a malformed line is refused, naming the line', () => {
    writeFileSync(join(dir, 'bad-tokens'), `# ok\n${TOKEN} node1\n${TOKEN}x node1 node2\n`);
    const r = cli(['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'x'), '--tokens', join(dir, 'bad-tokens')], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad-tokens line 3: expected "TOKEN \[HOST,HOST...\]"/);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it('--read-token guards the read routes (the write token does not read); a host goes offline after --offline-after', async () => {
    const READ = 'read-token-0123456789abc';
    const s = await startServe(['--data', join(dir, 'read'), '--offline-after', '1'], dir, { HOSTSERIES_TOKEN: TOKEN, HOSTSERIES_READ_TOKEN: READ });
    const read = { authorization: `Bearer ${READ}` };
    try {
      expect((await fetch(`${s.url}/api/v1/hosts`)).status).toBe(401);
      expect((await fetch(`${s.url}/api/v1/export`, { headers: bearer })).status).toBe(401);
      expect((await fetch(`${s.url}/api/v1/hosts`, { headers: read })).status).toBe(200);
      expect((await fetch(`${s.url}/api/v1/hosts/nobody`, { headers: { 'x-hostseries-token': READ } })).status).toBe(404);
      const [d] = await samples(1);
      expect((await push(s.url, stringifyJson([d]), bearer)).body.accepted).toBe(1);
      const host = async (): Promise<Record<string, unknown>> => (await (await fetch(`${s.url}/api/v1/hosts/${encodeURIComponent(d.hostname)}`, { headers: read })).json()) as Record<string, unknown>;
      expect(await host()).toMatchObject({ hostname: d.hostname, online: true, offline_after_seconds: 1, samples: 1 });
      await sleep(1300);
      expect(await host()).toMatchObject({ online: false });
    } finally {
      expect((await s.stop()).status).toBe(0);
    }
  });

  it('a client that sends one byte a second is cut off at --request-timeout; the server answers the others meanwhile', async () => {
    const s = await startServe(['--data', join(dir, 'slow'), '--request-timeout', '2'], dir, { HOSTSERIES_TOKEN: TOKEN });
    try {
      const port = Number(new URL(s.url).port);
      const sock = connect(port, '127.0.0.1');
      let reply = '';
      sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
      sock.on('error', () => undefined);
      const t0 = Date.now();
      sock.write(`POST /api/v1/samples HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n`);
      const drip = setInterval(() => sock.write('['), 1000);
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      await sleep(500);
      expect((await fetch(`${s.url}/api/v1/hosts`)).status).toBe(200);
      await closed;
      clearInterval(drip);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(6000);
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect((await fetch(`${s.url}/api/v1/hosts`)).status).toBe(200);
    } finally {
      expect((await s.stop()).status).toBe(0);
    }
  }, 30_000);
});
