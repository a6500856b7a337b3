/**
 * stop() covers the run to its end (one last sample on the native thread) and start() resolves
 * with the first sample in: issue 10, "never lose the end of a run" and "current()".
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it, vi } from 'vitest';

import type { KeepAlive } from '../lib/collector/keep-alive.js';
import { TimeSeriesCollector } from '../lib/collector/time-series-collector.js';
import { NativeError } from '../lib/errors.js';
import { JsonlSink } from '../lib/files/jsonl-sink.js';
import { readTimeSeriesJsonl } from '../lib/files/jsonl-read.js';
import { NativeSampler } from '../lib/native/sampler.js';
import { computeRates } from '../lib/rates/compute.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet = { warn: (): void => undefined };
const dir = mkdtempSync(join(tmpdir(), 'hostseries-final-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stop() takes a final sample', () => {
  it('a run shorter than the interval has a start and an end sample, and so rates', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 5, metrics: ['diskstats', 'stat', 'meminfo', 'vmstat'] });
    await c.start();
    await sleep(500);
    const samples = await c.stop();
    expect(samples).toHaveLength(2);
    const [a, b] = samples;
    const rates = computeRates(a, b);
    expect(rates.intervalSeconds).toBeGreaterThanOrEqual(0.45);
    expect(rates.intervalSeconds).toBeLessThan(5);
    expect(rates.cpu.all.busy! + rates.cpu.all.idle!).toBeGreaterThan(0);
    expect(Object.keys(rates.disk).length).toBeGreaterThan(0);
    expect(c.currentRates()!.intervalSeconds).toBe(rates.intervalSeconds);
    expect(c.sampleCount).toBe(2);
    expect(c.missedTicks).toBe(0);
  });

  // tmpfs has no block device to see the write on.
  const TMPFS_MAGIC = 0x01021994;
  it.skipIf(statfsSync(dir).type === TMPFS_MAGIC)('a write during a short run shows in full in the disk counters', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 5, metrics: ['diskstats'] });
    await c.start();
    const mib = 32;
    const fd = openSync(join(dir, 'written'), 'w');
    const block = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < mib; i++) writeSync(fd, block);
    fsyncSync(fd);
    closeSync(fd);
    const [a, b] = await c.stop();
    expect(b).toBeDefined();
    // Before the final sample existed, the run had one sample and the write was not seen at all.
    const written = (s: typeof a, dev: string): number => Number(s.diskstats!.find((d) => d.device_name === dev)?.sectors_written ?? 0) * 512;
    const most = Math.max(...b.diskstats!.map((d) => written(b, d.device_name) - written(a, d.device_name)));
    expect(most).toBeGreaterThanOrEqual(mib * 2 ** 20);
  });

  it('stays prompt: no waiting out a long interval', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 3600, metrics: ['loadavg', 'meminfo'] });
    await c.start();
    await sleep(300);
    const t = Date.now();
    const samples = await c.stop();
    // Functional bound (the interval is an hour), not a speed target.
    expect(Date.now() - t).toBeLessThan(5000);
    expect(samples).toHaveLength(2);
    expect(c.endTime!.getTime()).toBeGreaterThanOrEqual(samples[1].date.getTime() - 1000);
  });

  it('adds no near-duplicate when the last sample was just taken', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 3600, metrics: ['loadavg'] });
    await c.start();
    // A final sample closer than min(interval / 10, 10 ms) to the previous one would be noise:
    // either it is not taken, or (on a loaded machine, where stop() came later) it is that far apart.
    const samples = await c.stop();
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBeLessThanOrEqual(2);
    if (samples.length === 2) expect(Number(samples[1].timestampNs) - Number(samples[0].timestampNs)).toBeGreaterThanOrEqual(10e6);
  });

  it('goes to the sink too', async () => {
    const path = join(dir, 'run.jsonl');
    const c = new TimeSeriesCollector({ intervalSeconds: 5, metrics: ['loadavg', 'diskstats'], sink: new JsonlSink(path) });
    await c.start();
    await sleep(300);
    const samples = await c.stop();
    expect(samples).toHaveLength(2);
    const file = await readTimeSeriesJsonl(path);
    const onDisk = file.data.samplesByHost.get(c.hostname)!;
    expect(onDisk.map((s) => Number(s.timestampNs))).toEqual(samples.map((s) => Number(s.timestampNs)));
    expect(file.data.numSamples).toBe(2);
  });

  it('follows the maxSamples policies', async () => {
    const first = new TimeSeriesCollector({ intervalSeconds: 5, maxSamples: 1, metrics: ['loadavg'], logger: quiet });
    await first.start();
    const t0 = Number(first.current()!.timestampNs);
    await sleep(250);
    const kept = await first.stop();
    expect(kept.map((s) => Number(s.timestampNs))).toEqual([t0]);
    expect(first.sampleCount).toBe(2);
    expect(first.droppedSamples).toBe(1);

    const rolling = new TimeSeriesCollector({ intervalSeconds: 5, maxSamples: 1, overflow: 'rolling', metrics: ['loadavg'], logger: quiet });
    await rolling.start();
    const r0 = Number(rolling.current()!.timestampNs);
    await sleep(250);
    const latest = await rolling.stop();
    expect(latest).toHaveLength(1);
    expect(Number(latest[0].timestampNs)).toBeGreaterThan(r0);
    expect(rolling.droppedSamples).toBe(1);
  });

  it('runs custom collectors for it, bounded by collectorTimeoutMs', async () => {
    let calls = 0;
    const c = new TimeSeriesCollector({
      intervalSeconds: 5,
      collectorTimeoutMs: 200,
      metrics: ['loadavg'],
      collectors: [
        { name: 'count', collect: () => ++calls },
        { name: 'stuck', collect: () => new Promise(() => {}) },
      ],
    });
    await c.start();
    await sleep(300);
    const t = Date.now();
    const samples = await c.stop();
    const took = Date.now() - t;
    expect(samples).toHaveLength(2);
    expect(samples[0].collectors).toEqual({ count: 1 });
    expect(samples[1].collectors).toEqual({ count: 2 });
    expect(samples[1].errors!.stuck).toBe('TimeoutError: timed out after 200 ms');
    // The stuck collector is waited for no longer than its bound (plus scheduling slack).
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(5000);
  });

  it('the native finish() resolves without a thread, and twice', async () => {
    const s = new NativeSampler({ intervalMs: 60_000, capacity: 8 });
    await s.finish({ finalSample: true }); // never started: resolves at once
    s.start();
    await sleep(200);
    await Promise.all([s.finish({ finalSample: true }), s.finish({ finalSample: true })]);
    expect(s.stop().samples).toHaveLength(2);
    expect(s.running).toBe(false);
  });
});

describe('start() resolves with the first sample in', () => {
  it('current() has it at once', async () => {
    const before = Date.now();
    const c = new TimeSeriesCollector({ intervalSeconds: 3600, metrics: ['meminfo', 'loadavg'] });
    await c.start();
    const s = c.current();
    expect(s).toBeDefined();
    expect(s!.meminfo!.MemTotal).toBeGreaterThan(0);
    expect(s!.date.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(c.sampleCount).toBe(1);
    expect(c.samples).toHaveLength(1);
    await c.stop();
  });

  it('with custom collectors, their values are in it', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 3600, metrics: ['loadavg'], collectors: [{ name: 'app', collect: async () => { await sleep(20); return { ok: true }; } }] });
    await c.start();
    expect(c.current()!.collectors).toEqual({ app: { ok: true } });
    await c.stop();
  });

  it('a stop() while start() waits lets both resolve', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 3600, metrics: ['loadavg'], collectors: [{ name: 'slow', collect: () => sleep(300) }] });
    const started = c.start();
    await sleep(20);
    const [samples] = await Promise.all([c.stop(), started]);
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(c.isRunning).toBe(false);
  });

  it('a native start that fails ends the run cleanly and holds nothing', async () => {
    const path = join(dir, 'failed.jsonl');
    const c = new TimeSeriesCollector({ intervalSeconds: 1, metrics: ['loadavg'], sink: new JsonlSink(path) });
    c.on('sample', () => undefined);
    // The thread cannot be made to fail to spawn on demand; the binding's refusal is injected.
    const spy = vi.spyOn(NativeSampler.prototype, 'start').mockImplementation(() => {
      throw new NativeError('ERR_THREAD', 'cannot start the sampling thread');
    });
    try {
      await expect(c.start()).rejects.toMatchObject({ code: 'ERR_THREAD' });
    } finally {
      spy.mockRestore();
    }
    expect(c.isRunning).toBe(false);
    expect((c as unknown as { keepAlive: KeepAlive }).keepAlive.held).toBe(false);
    expect(await c.stop()).toEqual([]);
    const file = await readTimeSeriesJsonl(path);
    expect(file.complete).toBe(true);
    expect(file.data.numSamples).toBe(0);
  });
});
