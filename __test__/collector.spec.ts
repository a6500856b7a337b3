import { describe, expect, it } from 'vitest';

import { TimeSeriesCollector } from '../lib/collector/time-series-collector.js';
import { NativeSampler } from '../lib/native/sampler.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quietLogger(): { warn: (m: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m) };
}

describe('TimeSeriesCollector lifecycle', () => {
  it('rejects misuse with coded errors', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
    await expect(c.stop()).rejects.toMatchObject({ code: 'ERR_NOT_STARTED', message: /never started/ });
    await c.start();
    expect(c.isRunning).toBe(true);
    await expect(c.start()).rejects.toMatchObject({ code: 'ERR_ALREADY_STARTED' });
    const first = await c.stop();
    expect(c.isRunning).toBe(false);
    await expect(c.start()).rejects.toMatchObject({ code: 'ERR_ALREADY_STOPPED' });
    const again = await c.stop();
    expect(again.map((s) => s.timestampNs)).toEqual(first.map((s) => s.timestampNs));
    expect(c.startTime).toBeInstanceOf(Date);
    expect(c.endTime!.getTime()).toBeGreaterThanOrEqual(c.startTime!.getTime());
  });

  it('names bad options', () => {
    expect(() => new TimeSeriesCollector({ intervalSeconds: 0 })).toThrow(/intervalSeconds must be a number from 0.01 to 86400, got 0/);
    expect(() => new TimeSeriesCollector({ maxSamples: 1.5 })).toThrow(/maxSamples/);
    expect(() => new TimeSeriesCollector({ overflow: 'newest' as 'rolling' })).toThrow(/overflow/);
    expect(() => new TimeSeriesCollector({ collectors: [{ name: 'stat', collect: () => 1 }] })).toThrow(/reserved/);
  });

  it('takes the first sample at once and then one per interval', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
    await c.start();
    await sleep(520);
    const samples = await c.stop();
    // Ticks at 0, 50, ..., 500 ms: 11 (a loaded machine may count some as missed instead).
    expect(samples.length + c.missedTicks).toBeGreaterThanOrEqual(10);
    expect(samples.length + c.missedTicks).toBeLessThanOrEqual(12);
    expect(samples[0].hostname).toBe(c.hostname);
    expect(samples[0].diskstats!.length).toBeGreaterThan(0);
    expect(samples[0].date.getTime() - c.startTime!.getTime()).toBeLessThan(1000);
  });

  it('stops promptly without waiting out a long interval', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 3600 });
    await c.start();
    await sleep(30);
    const t = Date.now();
    const samples = await c.stop();
    expect(Date.now() - t).toBeLessThan(5000);
    // The first sample, and the final one stop() takes (30 ms later: past the 10 ms noise floor).
    expect(samples).toHaveLength(2);
  });
});

describe('maxSamples', () => {
  it('keep-first keeps the first samples and warns once', async () => {
    const logger = quietLogger();
    const c = new TimeSeriesCollector({ intervalSeconds: 0.01, maxSamples: 5, metrics: ['loadavg'], logger });
    await c.start();
    await sleep(200);
    const samples = await c.stop();
    expect(samples).toHaveLength(5);
    expect(c.droppedSamples).toBe(c.sampleCount - 5);
    expect(c.droppedSamples).toBeGreaterThan(0);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/maxSamples \(5\) reached; later samples are not kept/);
    expect(samples[0].date.getTime() - c.startTime!.getTime()).toBeLessThan(1000);
  });

  it('rolling keeps the latest maxSamples, bounded in memory', async () => {
    const logger = quietLogger();
    const c = new TimeSeriesCollector({ intervalSeconds: 0.01, maxSamples: 3, overflow: 'rolling', metrics: ['loadavg', 'meminfo'], logger });
    const seen: bigint[] = [];
    c.on('sample', (s) => seen.push(BigInt(s.timestampNs!)));
    await c.start();
    await sleep(300);
    const samples = await c.stop();
    expect(samples).toHaveLength(3);
    expect(samples.map((s) => BigInt(s.timestampNs!))).toEqual(seen.slice(-3));
    expect(c.droppedSamples).toBe(seen.length - 3);
    expect(logger.warnings).toHaveLength(1);
  });
});

describe('live use', () => {
  it('for await over a collector never started is refused (ERR_NOT_STARTED), not a silent wait', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
    const run = async (): Promise<number> => {
      let n = 0;
      for await (const _ of c) n++;
      return n;
    };
    await expect(run()).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' });
  });

  it('subscribing in the same turn as start() misses nothing', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
    const got = (async () => {
      const seen: number[] = [];
      for await (const s of c) {
        seen.push(s.timestampNs!);
        if (seen.length === 3) break;
      }
      return seen;
    })();
    await c.start();
    const seen = await got;
    await c.stop();
    expect(seen).toHaveLength(3);
    // The first sample start() took is among them.
    expect(seen[0]).toBe(c.samples[0].timestampNs);
  });

  it('async iteration, sample events, AbortSignal and await using', async () => {
    const ac = new AbortController();
    const events: number[] = [];
    const got: string[] = [];
    {
      await using c = new TimeSeriesCollector({ intervalSeconds: 0.02, signal: ac.signal, metrics: ['meminfo', 'stat', 'diskstats'] });
      c.on('sample', (s) => events.push(Number(s.meminfo!.MemTotal)));
      await c.start();
      for await (const s of c) {
        got.push(s.timestamp);
        if (got.length === 3) ac.abort();
      }
      expect(c.isRunning).toBe(false);
      expect(c.current()!.meminfo!.MemTotal).toBeGreaterThan(0);
      expect(c.currentRates()!.cpu.all.idle).toBeGreaterThanOrEqual(0);
      const agg = c.aggregate('meminfo.MemTotal');
      expect(agg.count).toBe(c.samples.length);
      expect(agg.min).toBe(agg.max);
      expect(c.aggregate('rates.cpu.all.busy').count).toBe(c.samples.length - 1);
      expect(c.history({ lastSeconds: 0 })).toHaveLength(1);
      const data = c.toTimeSeriesData();
      expect(data.collectionMethod).toBe('local');
      expect(data.samplesByHost.get(c.hostname)).toHaveLength(c.samples.length);
    }
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(events.length).toBeGreaterThanOrEqual(3);
  });

  it('custom collectors: values land under their name; a throw or a hang lands in errors', async () => {
    let calls = 0;
    const c = new TimeSeriesCollector({
      intervalSeconds: 0.1,
      collectorTimeoutMs: 30,
      metrics: ['loadavg'],
      collectors: [
        { name: 'queue', collect: () => ({ depth: ++calls }) },
        { name: 'broken', collect: () => { throw new Error('no such device'); } },
        { name: 'stuck', collect: () => new Promise(() => {}) },
        { name: 'polite', collect: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')))) },
      ],
    });
    await c.start();
    await sleep(250);
    const samples = await c.stop();
    expect(samples.length).toBeGreaterThanOrEqual(2);
    const s = samples[0];
    expect(s.collectors).toEqual({ queue: { depth: 1 } });
    expect(s.errors!.broken).toBe('Error: no such device');
    expect(s.errors!.stuck).toBe('TimeoutError: timed out after 30 ms');
    expect(s.errors!.polite).toMatch(/timed out/);
    expect(s.loadavg).toBeDefined();
  });
});

describe('native retention', () => {
  it('gives back exactly what the live feed gave, across keyframes, and windows by time', async () => {
    const sampler = new NativeSampler({ intervalMs: 10, capacity: 100_000, retainSamples: Infinity });
    sampler.start();
    await sleep(1600);
    // The live feed (every sample as taken) against the retained series (chunks of 128).
    const fed = sampler.drain();
    await sampler.finish();
    const rest = sampler.stop();
    const expected = [...fed.samples, ...rest.samples];
    const seqs = [...fed.seqs, ...rest.seqs];
    const monoNs = [...fed.monoNs, ...rest.monoNs];
    expect(expected.length).toBeGreaterThan(130);
    expect(seqs).toEqual(expected.map((_, i) => i));
    const kept = sampler.history();
    expect(kept.samples).toEqual(expected);
    expect(kept.seqs).toEqual(seqs);
    // Windows by time come from the stored clocks: same answer as filtering the fed samples.
    const newest = monoNs[monoNs.length - 1];
    for (const secs of [0, 0.05, 0.2, 1e6]) {
      const from = monoNs.findIndex((t) => t >= newest - BigInt(Math.round(secs * 1e9)));
      expect(sampler.history({ lastSeconds: secs }).samples).toEqual(expected.slice(from));
    }
    expect(sampler.history({ fromSeq: 100 }).samples).toEqual(expected.slice(100));
    expect(sampler.counts()).toMatchObject({ taken: expected.length, retained: expected.length });
    expect(sampler.counts().retainedBytes).toBeLessThan(expected.length * 1024);
  });

  it('rolling keeps the latest, keep-first the first, and the last two are always there', async () => {
    const roll = new NativeSampler({ intervalMs: 10, retainSamples: 3, overflow: 'rolling' });
    const first = new NativeSampler({ intervalMs: 10, retainSamples: 3 });
    roll.start();
    first.start();
    await sleep(300);
    const r = roll.stop();
    const f = first.stop();
    expect(roll.history().seqs).toEqual([r.seqs.length - 3, r.seqs.length - 2, r.seqs.length - 1]);
    expect(roll.history().samples).toEqual(r.samples.slice(-3));
    expect(first.history().samples).toEqual(f.samples.slice(0, 3));
    expect(first.decode(first.tailBatch(2)).samples.map((s) => s.timestamp_ns))
      .toEqual(f.samples.slice(-2).map((s) => s.timestamp_ns));
  });

  it('refuses a bad retention, naming the option', () => {
    for (const bad of [0, -1, 1.5, NaN, '3']) {
      expect(() => new NativeSampler({ intervalMs: 10, retainSamples: bad as number })).toThrow(/^retainSamples must be a positive whole number or Infinity, got /);
    }
    expect(() => new NativeSampler({ intervalMs: 10, retainSamples: 3, overflow: 'oldest' as 'rolling' })).toThrow("overflow must be 'keep-first' or 'rolling', got \"oldest\"");
    expect(() => new NativeSampler({ intervalMs: 10, overflow: 'rolling' })).toThrow('overflow applies to retainSamples, which is not given');
    // Without a retention, turning the feed off would lose samples, and there is no history.
    const plain = new NativeSampler({ intervalMs: 10 });
    expect(() => plain.setFeed(false)).toThrow(/^setFeed\(false\) needs retainSamples or retainSeconds/);
    expect(() => plain.history()).toThrow(/^history\(\) needs retainSamples or retainSeconds/);
    plain.setFeed(true);
  });
});

describe('historySeconds', () => {
  it('keeps a rolling window by time beside maxSamples', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.01, historySeconds: 0.2, maxSamples: 100_000 });
    await c.start();
    await sleep(1000);
    const held = await c.stop();
    const ns = held.map((s) => BigInt(s.timestampNs!));
    // Within 0.2 s of the newest (by the monotonic clock; wall time agrees to well under 50 ms here).
    expect(Number(ns[ns.length - 1] - ns[0]) / 1e9).toBeLessThanOrEqual(0.25);
    expect(held.length).toBeGreaterThan(5);
    expect(c.droppedSamples).toBe(c.sampleCount - held.length);
    expect(c.droppedSamples).toBeGreaterThan(0);
    // The newest is always there, and aggregate sees the same window.
    expect(held[held.length - 1].timestampNs).toBe(c.current()!.timestampNs);
    expect(c.aggregate('loadavg.load_1min').count).toBe(held.length);
  });

  it('refuses a window that is not a positive number of seconds, naming it', () => {
    for (const bad of [0, -1, NaN, '10']) {
      expect(() => new TimeSeriesCollector({ historySeconds: bad as number })).toThrow(/^historySeconds must be a number of seconds above 0, got /);
    }
  });
});
