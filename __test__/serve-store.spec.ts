/**
 * The serve store (SqliteStore) in process: real samples pushed in random batches, out of order
 * and with repeats, read back as the sorted unique samples, by this store (its open-chunk and
 * closed-chunk caches warm) and by a fresh one on the same file; `points`/`table` (read from the
 * columns) equal `valueAt` over the samples; the read API's rates made of column-read inputs
 * equal `aggregate()` over the full samples; `expire` deletes whole chunks only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { aggregate, TimeSeriesCollector, valueAt } from '../lib/index.js';
import { isoSeconds } from '../lib/native/decode.js';
import { pathPoints, summary } from '../lib/serve/query.js';
import { SqliteStore } from '../lib/serve/store/sqlite.js';
import type { SampleDict } from '../lib/types/sample.js';
import { rng } from './support/rng.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let dir = '';
let real: SampleDict[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostseries-serve-store-'));
  const c = new TimeSeriesCollector({ intervalSeconds: 0.02, watch: ['self'] });
  await c.start();
  c.count('steps', 1);
  await sleep(1200);
  real = (await c.stop()).map((s) => s.toDict());
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `n` samples a second apart (real values cycled), `host`. */
function hostSamples(host: string, n: number, startMs: number): SampleDict[] {
  return Array.from({ length: n }, (_, i) => ({ ...real[i % real.length], hostname: host, timestamp_ns: (startMs + i * 1000) * 1e6, timestamp: isoSeconds(startMs + i * 1000) }));
}

const ALL = { fromNs: 0n, toNs: 2n ** 63n - 1n };

describe('serve store', () => {
  it('random batches, out of order, with repeats: read back sorted and unique, warm and cold; points/table equal valueAt; rates equal aggregate()', async () => {
    expect(real.length).toBeGreaterThan(20);
    const want = hostSamples('h', 400, Date.UTC(2026, 0, 1));
    const rand = rng(7);
    const order = want.map((_d, i) => i);
    // Mostly in order (as agents push), with some shuffled stretches and repeats.
    for (let i = 0; i < order.length; i++) {
      if (rand() < 0.1) {
        const j = Math.min(order.length - 1, i + Math.floor(rand() * 30));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    const store = new SqliteStore(join(dir, 'a'));
    let accepted = 0;
    let duplicates = 0;
    for (let i = 0; i < order.length;) {
      const n = 1 + Math.floor(rand() * 25);
      const batch = order.slice(i, i + n).map((k) => want[k]);
      if (rand() < 0.2 && i > 0) batch.push(want[order[i - 1]]);
      const r = store.put('h', batch, { receivedMs: Date.now() });
      accepted += r.accepted;
      duplicates += r.duplicates;
      i += n;
    }
    expect(accepted).toBe(want.length);
    expect(duplicates).toBeGreaterThan(0);
    const warm = store.window('h', ALL.fromNs, ALL.toNs);
    expect(warm).toEqual(want);
    const cold = new SqliteStore(join(dir, 'a'));
    expect(cold.window('h', ALL.fromNs, ALL.toNs)).toEqual(want);

    const disk = want[0].diskstats![0].device_name;
    const net = want[0].netdev![0].interface_name;
    const key = want[0].processes?.[0]?.key;
    expect(key).toBeDefined();
    const paths = ['meminfo.MemFree', 'loadavg.load_1min', `diskstats.${disk}.sectors_written`, `netdev.${net}.rx_bytes`, 'stat.cpu.user', 'app.steps', ...(key ? [`processes.${key}.rss_kb`] : [])];
    const from = want[37].timestamp_ns!;
    const to = want[301].timestamp_ns!;
    const inWindow = want.slice(37, 302);
    const t = cold.table('h', BigInt(from), BigInt(to), paths);
    expect(t.timesNs).toEqual(inWindow.map((d) => d.timestamp_ns));
    paths.forEach((p, j) => {
      const values = inWindow.map((d) => valueAt(d, p) ?? NaN);
      expect(Array.from(t.columns[j]), p).toEqual(values);
      expect(store.points('h', BigInt(from), BigInt(to), p).values, p).toEqual(values.filter((v) => !Number.isNaN(v)));
    });

    // Rates from column-read inputs (disk, net, cpu, mem, vm) and from decoded sections (proc): aggregate() of the samples.
    const rates = ['rates.cpu.all.busy', 'rates.cpu.cpu0.sys', `rates.disk.${disk}.wMB_s`, `rates.net.${net}.rx_bytes_s`, 'rates.mem.used_pct', 'rates.vm.fault_s', 'rates.app.steps_s', ...(key ? [`rates.proc.${key}.rss_MB`] : [])];
    const w = { fromNs: BigInt(from), toNs: BigInt(to) };
    for (const p of rates) {
      const a = aggregate(inWindow, p);
      expect(a.count, p).toBeGreaterThan(100);
      const got = summary(await pathPoints(cold, 'h', w, p));
      expect(got.count, p).toBe(a.count);
      expect([got.min, got.max, got.p95], p).toEqual([a.min, a.max, a.p95]);
      expect(got.avg, p).toBeCloseTo(a.avg, 9);
      expect(got.spanSeconds, p).toBeCloseTo(a.spanSeconds, 9);
    }
    store.close();
    cold.close();
  });

  it('expire deletes the chunks whose last sample is older, never part of one; the host stays with what is left', () => {
    const store = new SqliteStore(join(dir, 'b'));
    const base = Date.UTC(2026, 0, 1);
    const all = hostSamples('h', 300, base);
    for (let i = 0; i < all.length; i += 10) store.put('h', all.slice(i, i + 10), { receivedMs: Date.now() });
    // Chunks: [0,127] [128,255] [256,299]. A cut inside the second deletes the first only.
    const cut = BigInt(all[200].timestamp_ns!);
    expect(store.expire(cut)).toEqual({ chunks: 1, samples: 128 });
    expect(store.window('h', ALL.fromNs, ALL.toNs)).toEqual(all.slice(128));
    expect(store.host('h')).toMatchObject({ samples: 172, firstNs: BigInt(all[128].timestamp_ns!) });
    expect(store.expire(BigInt(all[299].timestamp_ns!) + 1n)).toEqual({ chunks: 2, samples: 172 });
    expect(store.host('h')).toMatchObject({ samples: 0, firstNs: null, lastNs: null });
    // Pushed again after all went: stored again, from a new open chunk.
    expect(store.put('h', all.slice(0, 5), { receivedMs: Date.now() })).toEqual({ accepted: 5, duplicates: 0 });
    expect(store.window('h', ALL.fromNs, ALL.toNs)).toEqual(all.slice(0, 5));
    store.close();
  });
});
