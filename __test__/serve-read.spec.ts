/**
 * The read API of a real `hostseries serve`: /series, /aggregate and /fleet give what the
 * collector's own `aggregate()` gives over the same samples (values and rates); and every route of
 * /api/v1/openapi.json called with valid and with invalid parameters replies with a status the
 * document lists and a body its schema takes (ajv, as fastify uses it).
 */
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { aggregate, stringifyJson, TimeSeriesCollector } from '../lib/index.js';
import type { SampleDict } from '../lib/types/sample.js';
import { cliWorkdir } from './support/cli.js';
import { push, startServe, type Server } from './support/serve.js';

const TOKEN = 'read-spec-write-token-0123456789';
const READ = 'read-spec-read-token-0123456789';
const write = { authorization: `Bearer ${TOKEN}` };
const read = { authorization: `Bearer ${READ}` };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Fastify's validator, ajv 8 with ajv-formats (devDependencies, the versions fastify uses).

let dir = '';
cliWorkdir('hostseries-serve-read-', (d) => (dir = d));

let server: Server;
let samples: SampleDict[] = [];
let host = '';

beforeAll(async () => {
  server = await startServe(['--data', join(dir, 'data')], dir, { HOSTSERIES_TOKEN: TOKEN, HOSTSERIES_READ_TOKEN: READ });
  const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
  await c.start();
  await sleep(1500);
  samples = (await c.stop()).map((s) => s.toDict());
  host = samples[0].hostname;
  const other = samples.map((d) => ({ ...d, hostname: 'other-host' }));
  expect((await push(server.url, samples.map((d) => stringifyJson(d)).join('\n'), write)).body.accepted).toBe(samples.length);
  expect((await push(server.url, stringifyJson(other), write)).body.accepted).toBe(samples.length);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function get(route: string, headers: Record<string, string> = read): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${server.url}${route}`, { headers });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const q = (o: Record<string, string | number>): string => new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k, String(v)])).toString();

describe('hostseries serve: the read API', () => {
  it("/aggregate, /series and /fleet give the collector's aggregate() over the same samples", async () => {
    expect(samples.length).toBeGreaterThan(15);
    const from = samples[0].timestamp_ns!;
    const to = samples[samples.length - 1].timestamp_ns!;
    const disk = samples[0].diskstats?.[0]?.device_name;
    const paths = ['meminfo.MemAvailable', 'loadavg.load_1min', 'rates.cpu.all.busy', 'rates.mem.used_pct', ...(disk ? [`rates.disk.${disk}.util`, `diskstats.${disk}.sectors_read`] : [])];
    for (const path of paths) {
      const want = aggregate(samples, path);
      expect(want.count, path).toBeGreaterThan(0);
      const a = await get(`/api/v1/aggregate?${q({ host, path, from, to })}`);
      expect(a.status, path).toBe(200);
      expect(a.body, path).toMatchObject({ host, path, count: want.count, avg: want.avg, min: want.min, max: want.max, p95: want.p95 });
      expect(a.body.span_seconds as number).toBeCloseTo(want.spanSeconds, 6);

      // One bucket over the window: the same count, min and max; finer buckets add up to it.
      const span = (to - from) / 1e9 + 1;
      const one = await get(`/api/v1/series?${q({ host, path, from, to, step: `${span}s` })}`);
      expect(one.status).toBe(200);
      const [b] = one.body.points as { count: number; min: number; max: number; avg: number }[];
      expect(one.body.points).toHaveLength(1);
      expect(b).toMatchObject({ count: want.count, min: want.min, max: want.max });
      expect(b.avg).toBeCloseTo(want.avg, 6);
      const fine = await get(`/api/v1/series?${q({ host, path, from, to, step: '200ms' })}`);
      const points = fine.body.points as { time: string; count: number; min: number; max: number; avg: number }[];
      expect(points.length).toBeGreaterThan(3);
      expect(points.reduce((n, p) => n + p.count, 0)).toBe(want.count);
      for (const p of points) expect(p.min <= p.avg && p.avg <= p.max).toBe(true);
      expect(points.map((p) => p.time)).toEqual([...points.map((p) => p.time)].sort());

      const f = await get(`/api/v1/fleet?${q({ path, from, to })}`);
      expect(f.status).toBe(200);
      expect(f.body).toMatchObject({ hosts_total: 2, hosts_online: 2, hosts_with_data: 2, fleet: { count: 2 * want.count, avg: want.avg, min: want.min, max: want.max } });
    }
  });

  it('the default step keeps to 1000 buckets or fewer; relative times; errors name the parameter', async () => {
    const day = await get(`/api/v1/series?${q({ host, path: 'meminfo.MemFree', from: '-1d', to: 'now' })}`);
    expect(day.status).toBe(200);
    expect(day.body.step_seconds).toBe(87);
    expect((day.body.points as unknown[]).length).toBeGreaterThan(0);
    const cases: [Record<string, string>, RegExp, number][] = [
      [{ host, path: 'nosuch.thing' }, /^path: /, 400],
      [{ path: 'meminfo.MemFree' }, /^host: /, 400],
      [{ host, path: 'meminfo.MemFree', from: 'yesterday' }, /^from: /, 400],
      [{ host, path: 'meminfo.MemFree', to: '2026-13-45T99:00:00Z' }, /^to: /, 400],
      [{ host, path: 'meminfo.MemFree', from: 'now', to: '-1h' }, /^to: before from/, 400],
      [{ host, path: 'meminfo.MemFree', step: 'often' }, /^step: /, 400],
      [{ host, path: 'meminfo.MemFree', from: '-30d', step: '1ms' }, /^step: .*at most 10000/, 400],
      [{ host: 'nobody', path: 'meminfo.MemFree' }, /^host: no host "nobody"/, 404],
    ];
    for (const [params, message, status] of cases) {
      const r = await get(`/api/v1/series?${q(params)}`);
      expect([r.status, r.body.error], JSON.stringify(params)).toEqual([status, expect.stringMatching(message)]);
    }
    expect((await get(`/api/v1/series?${q({ host, path: 'meminfo.MemFree' })}`, write)).status).toBe(401);
  });
});

interface Operation {
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  security: Record<string, string[]>[];
  requestBody?: unknown;
}

describe('hostseries serve: /api/v1/openapi.json', () => {
  it('every route, called with valid and with invalid parameters, replies as the document says', async () => {
    const docReply = await get('/api/v1/openapi.json', {});
    expect(docReply.status).toBe(200);
    const doc = docReply.body as { openapi: string; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv({ strict: false, allErrors: true });
    // ajv-formats is CommonJS with `exports.default`.
    (formats as unknown as { default: (a: Ajv) => void }).default(ajv);
    const valid: Record<string, string> = {
      host, path: 'rates.cpu.all.busy', from: '-1h', to: 'now', step: '1s', hosts: `${host},other-host`,
    };
    const invalid: Record<string, string> = { host: '', path: 'nosuch.x', from: 'yesterday', to: 'later', step: '-1s', hosts: '', token: 'not-the-read-token-0123' };
    const body = samples.slice(0, 2).map((d) => stringifyJson(d)).join('\n');
    let calls = 0;

    async function call(method: string, route: string, op: Operation, values: Record<string, string | undefined>, auth: boolean): Promise<{ status: number; json: unknown }> {
      let url = route;
      const query = new URLSearchParams();
      for (const p of op.parameters) {
        const v = values[p.name];
        if (v === undefined || p.in === 'header') continue;
        if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(v));
        else query.set(p.name, v);
      }
      const headers: Record<string, string> = {};
      if (auth && op.security.length > 0) headers.authorization = `Bearer ${method === 'post' ? TOKEN : READ}`;
      const r = await fetch(`${server.url}${url}${query.size ? `?${query.toString()}` : ''}`, { method: method.toUpperCase(), headers, body: method === 'post' ? (values.body ?? body) : undefined });
      // An event stream stays open: its type is what is checked.
      if (r.ok && r.headers.get('content-type')?.startsWith('text/event-stream')) {
        await r.body?.cancel();
        calls++;
        expect(op.responses[String(r.status)]?.content?.['text/event-stream'], `${method} ${url}`).toBeDefined();
        return { status: r.status, json: undefined };
      }
      const text = await r.text();
      calls++;
      const documented = op.responses[String(r.status)];
      expect(documented, `${method} ${url}?${query.toString()}: ${r.status} ${text} is not in the document`).toBeDefined();
      // A reply the document gives another content type (the /metrics text) is that type.
      const [type, media] = Object.entries(documented.content ?? {})[0] ?? [];
      if (type !== undefined && type !== 'application/json') {
        expect(r.headers.get('content-type'), `${method} ${url}`).toMatch(new RegExp(`^${type.split(';')[0]}`));
        return { status: r.status, json: undefined };
      }
      const json: unknown = text === '' ? undefined : JSON.parse(text);
      if (media) expect(ajv.validate(media.schema, json), `${method} ${url}?${query.toString()} ${r.status}: ${ajv.errorsText()}`).toBe(true);
      return { status: r.status, json };
    }

    for (const [route, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const ok = await call(method, route, op, valid, true);
        expect(ok.status, `${method} ${route}`).toBe(200);
        // Each parameter made invalid alone: a 4xx naming it (a documented one, checked in call()).
        for (const p of op.parameters.filter((x) => x.in !== 'header')) {
          const r = await call(method, route, op, { ...valid, [p.name]: invalid[p.name] }, true);
          if (p.name === 'hosts' && invalid.hosts === '') continue; // empty: every host, not an error
          expect(r.status, `${method} ${route} ${p.name}=${invalid[p.name]}`).toBeGreaterThanOrEqual(400);
          expect(r.status).toBeLessThan(500);
          if (r.status === 400) expect((r.json as { error: string }).error).toMatch(new RegExp(`^${p.name}: `));
          if (p.required && p.in === 'query') {
            const missing = await call(method, route, op, { ...valid, [p.name]: undefined }, true);
            expect(missing.status).toBe(400);
            expect((missing.json as { error: string }).error).toMatch(new RegExp(`^${p.name}: `));
          }
        }
        if (op.requestBody) expect((await call(method, route, op, { ...valid, body: '{not json' }, true)).status).toBe(400);
        if (op.security.length > 0) expect((await call(method, route, op, valid, false)).status).toBe(401);
      }
    }
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/', '/api/v1/aggregate', '/api/v1/events', '/api/v1/export', '/api/v1/fleet', '/api/v1/hosts', '/api/v1/hosts/{host}', '/api/v1/openapi.json', '/api/v1/report', '/api/v1/samples', '/api/v1/series', '/metrics',
    ]);
    expect(calls).toBeGreaterThan(30);
  });
});
