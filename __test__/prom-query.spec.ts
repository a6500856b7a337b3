/**
 * PromQuery's traffic to a query API (a real HTTP server on 127.0.0.1 answering as the query API
 * does, slowly): no more than `maxInFlight` queries at once however many are asked together, each
 * answered; an answer whose body is slower than the timeout is a PromQueryError (serve's 503), not
 * a stray abort error (which a route answered 500).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PromQueryError } from '../lib/errors.js';
import { PromQuery } from '../lib/prometheus/query.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** A query API whose answers take `ms` (the body `bodyDelayMs` after the headers); counts queries in flight. */
async function slowApi(ms: number, bodyDelayMs = 0): Promise<{ url: string; peak: () => number; served: () => number }> {
  let now = 0;
  let peak = 0;
  let served = 0;
  server = createServer((_req, res) => {
    now++;
    peak = Math.max(peak, now);
    void (async () => {
      await sleep(ms);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"success",');
      await sleep(bodyDelayMs);
      res.end('"data":{"resultType":"vector","result":[{"metric":{"instance":"h"},"value":[1,"1"]}]}}');
      now--;
      served++;
    })();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, peak: () => peak, served: () => served };
}

describe('PromQuery', () => {
  it('keeps to maxInFlight queries at once; every one answered', async () => {
    const api = await slowApi(40);
    const q = new PromQuery({ url: api.url, maxInFlight: 3 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => q.vector('vector(1)')));
    expect(answers.every((a) => a.length === 1 && a[0].value === 1)).toBe(true);
    expect(api.served()).toBe(20);
    expect(api.peak()).toBe(3);
  });

  it('an answer whose body outlasts the timeout is a PromQueryError', async () => {
    const api = await slowApi(0, 2000);
    const q = new PromQuery({ url: api.url, timeoutMs: 300 });
    const e = await q.vector('vector(1)').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PromQueryError);
    expect((e as Error).message).toMatch(/^.*\/api\/v1\/query: the answer did not come whole: .*(timeout|aborted)/i);
  });
});
