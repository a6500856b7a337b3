/**
 * `hostseries serve`, the real CLI on loopback: pushes of real samples (a collector's, with
 * processes and app values, and mlpstorage's) read back exactly through /export; retries store
 * nothing twice; wrong tokens, hosts a token may not write, malformed bodies, fields of the wrong
 * type, other encodings, a gzip bomb and a 100 MB body are each refused with their status, and
 * the server goes on answering.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readTimeSeriesJson, stringifyJson, TimeSeriesCollector, TimeSeriesData } from '../lib/index.js';
import { parseJson } from '../lib/json/parse.js';
import type { SampleDict } from '../lib/types/sample.js';
import { cliWorkdir } from './support/cli.js';
import { push, startServe, type Server } from './support/serve.js';

const FIXTURE = join(__dirname, 'fixtures', 'mlpstorage_timeseries.json');
const TOKEN = 'all-hosts-token-0123456789';
const NODE1_TOKEN = 'node1-only-token-0123456789';
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const jsonl = (dicts: SampleDict[]): string => dicts.map((d) => stringifyJson(d)).join('\n') + '\n';
const exact = (dicts: readonly SampleDict[]): string => stringifyJson(dicts);

let dir = '';
cliWorkdir('hostseries-serve-', (d) => (dir = d));

let server: Server;
let collected: SampleDict[] = [];
let fixture: SampleDict[] = [];

beforeAll(async () => {
  writeFileSync(join(dir, 'tokens'), `# test tokens\n${TOKEN}\n${NODE1_TOKEN}   node1\n`);
  server = await startServe(['--data', join(dir, 'data'), '--tokens', join(dir, 'tokens')], dir);
  const c = new TimeSeriesCollector({ intervalSeconds: 0.05, watch: ['self'] });
  await c.start();
  c.count('steps', 2);
  c.gauge('loss', 0.25);
  await sleep(1200);
  collected = (await c.stop()).map((s) => s.toDict());
  const data = TimeSeriesData.fromDict(parseJson(readFileSync(FIXTURE, 'utf8')));
  fixture = [...data.samplesByHost.values()].flat().map((s) => s.toDict());
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** /export of `query`, saved to a file and read with readTimeSeriesJson. */
async function exported(query: string): Promise<TimeSeriesData> {
  const r = await fetch(`${server.url}/api/v1/export?${query}`);
  expect(r.status).toBe(200);
  const file = join(dir, `export-${Date.now()}-${Math.random()}.json`);
  writeFileSync(file, Buffer.from(await r.arrayBuffer()));
  return readTimeSeriesJson(file);
}

const dictsOf = (data: TimeSeriesData, host: string): SampleDict[] => (data.samplesByHost.get(host) ?? []).map((s) => s.toDict());

async function hostNames(): Promise<string[]> {
  const r = await fetch(`${server.url}/api/v1/hosts`);
  return ((await r.json()) as { hosts: { hostname: string }[] }).hosts.map((h) => h.hostname);
}

describe('hostseries serve', () => {
  it("a collector's samples pushed as gzipped JSON Lines read back exactly through /export; a retry stores nothing twice", async () => {
    expect(collected.length).toBeGreaterThan(10);
    const host = collected[0].hostname;
    // The later ones first: earlier samples join the host's open chunk in time order.
    const half = collected.slice(collected.length - 7);
    const headers = { ...bearer(TOKEN), 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson', 'x-hostseries-tags': 'rack=r1,role=test', 'x-hostseries-agent': '0.1.0' };
    expect(await push(server.url, gzipSync(jsonl(half)), headers)).toEqual({ status: 200, body: { accepted: 7, duplicates: 0, rejected: [] } });
    // The retry of a push that overlaps: only the new ones are stored.
    const r = await push(server.url, gzipSync(jsonl(collected)), headers);
    expect(r).toEqual({ status: 200, body: { accepted: collected.length - 7, duplicates: 7, rejected: [] } });
    expect((await push(server.url, gzipSync(jsonl(collected)), headers)).body).toEqual({ accepted: 0, duplicates: collected.length, rejected: [] });

    const back = await exported(`hosts=${encodeURIComponent(host)}`);
    expect(exact(dictsOf(back, host))).toBe(exact(collected));
    expect(back.hostsRequested).toEqual([host]);

    // A window by ISO time and by ns: only the samples inside it.
    const from = collected[3].timestamp_ns!;
    const to = collected[8].timestamp_ns!;
    const win = await exported(`hosts=${encodeURIComponent(host)}&from=${BigInt(from)}&to=${BigInt(to)}`);
    expect(exact(dictsOf(win, host))).toBe(exact(collected.slice(3, 9)));

    const info = (await (await fetch(`${server.url}/api/v1/hosts/${encodeURIComponent(host)}`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ hostname: host, online: true, tags: { rack: 'r1', role: 'test' }, agent_version: '0.1.0', samples: collected.length });
  });

  it("mlpstorage's samples (whole-second times, counters beyond 2^53) pushed as a JSON array read back exactly", async () => {
    const r = await push(server.url, stringifyJson(fixture), bearer(TOKEN));
    expect(r).toEqual({ status: 200, body: { accepted: fixture.length, duplicates: 0, rejected: [] } });
    const hosts = [...new Set(fixture.map((d) => d.hostname))];
    const back = await exported(`hosts=${hosts.join(',')}&from=2026-01-24T00:00:00Z&to=2026-01-25T00:00:00Z`);
    for (const h of hosts) expect(exact(dictsOf(back, h))).toBe(exact(fixture.filter((d) => d.hostname === h)));
    expect(back.startTime).toBe('2026-01-24T00:00:00Z');
    expect(back.collectionIntervalSeconds).toBe(10);
    expect((await push(server.url, stringifyJson(fixture), bearer(TOKEN))).body).toMatchObject({ accepted: 0, duplicates: fixture.length });
    // As JSON Lines too (each line read exactly where a counter is beyond 2^53).
    const renamed = fixture.map((d) => ({ ...d, hostname: `jsonl-${d.hostname}` }));
    expect((await push(server.url, gzipSync(jsonl(renamed)), { ...bearer(TOKEN), 'content-encoding': 'gzip' })).body).toMatchObject({ accepted: fixture.length });
    const lines = await exported(hosts.map((h) => `jsonl-${h}`).join(',').replace(/^/, 'hosts='));
    for (const h of hosts) expect(exact(dictsOf(lines, `jsonl-${h}`))).toBe(exact(renamed.filter((d) => d.hostname === `jsonl-${h}`)));
    expect(stringifyJson(renamed)).toContain('18446744073709551615');
  });

  it('no token or a wrong one is 401 and stores nothing; a host-bound token writing another host is 403 and stores nothing', async () => {
    const stranger = { ...fixture[0], hostname: 'stranger' };
    const stray = { ...fixture[0], hostname: 'node1', timestamp: '2026-02-01T00:00:00Z' };
    expect((await push(server.url, jsonl([stranger]))).status).toBe(401);
    expect((await push(server.url, jsonl([stranger]), bearer('wrong-token-0123456789'))).status).toBe(401);
    expect((await push(server.url, jsonl([stranger]), { 'x-hostseries-token': 'wrong-token-0123456789' })).status).toBe(401);
    // Bound to node1: a push with another host is refused whole, its node1 sample too.
    const r = await push(server.url, jsonl([stray, stranger]), bearer(NODE1_TOKEN));
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/stranger/);
    expect(await hostNames()).not.toContain('stranger');
    const back = await exported('hosts=node1&from=2026-02-01T00:00:00Z');
    expect(back.samplesByHost.get('node1')).toEqual([]);
    // Its own host, with X-Hostseries-Token: taken.
    expect((await push(server.url, jsonl([stray]), { 'x-hostseries-token': NODE1_TOKEN })).body).toMatchObject({ accepted: 1 });
  });

  it('a body that is not JSON is 400; a field of the wrong type rejects that sample with its path; another encoding is 415', async () => {
    for (const body of ['[{"timestamp":', 'not json', '{"a":1}\n{oops}\n', '{"a": 1}']) {
      const r = await push(server.url, body, bearer(TOKEN));
      expect(r.status, body).toBe(body === '{"a": 1}' ? 200 : 400);
    }
    const good = { ...fixture[0], hostname: 'typed', timestamp: '2026-03-01T00:00:00Z' };
    const bad = JSON.parse(stringifyJson({ ...good, timestamp: '2026-03-01T00:00:01Z' })) as Record<string, unknown>;
    (bad.diskstats as Record<string, unknown>[])[0].reads_completed = 'many';
    const badTime = { ...good, timestamp: '2026-03-01T00:00:02.5Z' };
    const r = await push(server.url, `[${stringifyJson(good)},${JSON.stringify(bad)},${stringifyJson(badTime)}]`, bearer(TOKEN));
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(1);
    expect(r.body.rejected).toEqual([
      { index: 1, path: 'diskstats[0].reads_completed', reason: expect.stringMatching(/non-negative integer, got "many"/) },
      { index: 2, path: 'timestamp', reason: expect.stringMatching(/whole UTC second/) },
    ]);
    const brotli = await push(server.url, 'x', { ...bearer(TOKEN), 'content-encoding': 'br' });
    expect(brotli.status).toBe(415);
    expect((await push(server.url, 'not gzip', { ...bearer(TOKEN), 'content-encoding': 'gzip' })).status).toBe(400);
  });

  it('a gzip bomb (1 GB of zeros) is 413, refused while inflating; a 100 MB body is 413; the server still answers', async () => {
    // gzip members concatenated inflate to their contents concatenated: 64 x 16 MiB of zeros.
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const t0 = Date.now();
    const r = await push(server.url, bomb, { ...bearer(TOKEN), 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/inflates to more than/);
    expect(Date.now() - t0).toBeLessThan(20_000);

    const big = Buffer.alloc(100 * 1024 * 1024, 0x20);
    expect((await push(server.url, big, bearer(TOKEN))).status).toBe(413);
    // The same sent chunked (no Content-Length): refused once past the limit (the rest is read
    // into nothing so that the client gets the 413).
    let sent = 0;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= 100) ctl.close();
        else {
          sent++;
          ctl.enqueue(chunk);
        }
      },
    });
    const chunked = await fetch(`${server.url}/api/v1/samples`, { method: 'POST', body: stream, headers: bearer(TOKEN), duplex: 'half' });
    expect(chunked.status).toBe(413);

    expect((await fetch(`${server.url}/api/v1/hosts`)).status).toBe(200);
    expect((await push(server.url, '[]', bearer(TOKEN))).body).toEqual({ accepted: 0, duplicates: 0, rejected: [] });
  }, 60_000);
});
