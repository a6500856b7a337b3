/**
 * Bad collector options are coded errors naming the option, and aggregates keep
 * min <= avg <= max over any series (issue 10).
 */
import { describe, expect, it } from 'vitest';

import { summarize } from '../lib/collector/aggregate.js';
import { MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS } from '../lib/collector/options.js';
import { TimeSeriesCollector } from '../lib/collector/time-series-collector.js';
import { InvalidOptionError } from '../lib/errors.js';
import type { TimeSeriesCollectorOptions } from '../lib/types/collector.js';

function refusal(options: unknown): InvalidOptionError {
  try {
    new TimeSeriesCollector(options as TimeSeriesCollectorOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidOptionError);
    return e as InvalidOptionError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('collector options', () => {
  it('hostname must be a non-empty string', () => {
    for (const hostname of ['', '   ', 'a\nb', 42, null, {}, ['h']]) {
      const e = refusal({ hostname });
      expect(e.code).toBe('ERR_INVALID_OPTION');
      expect(e.message).toMatch(/^hostname must be a non-empty string/);
    }
    expect(refusal({ hostname: '' }).message).toMatch(/got ""$/);
    expect(new TimeSeriesCollector({ hostname: 'node01' }).hostname).toBe('node01');
  });

  it('intervalSeconds is finite and within the exported bounds', () => {
    expect(MIN_INTERVAL_SECONDS).toBe(0.01);
    expect(MAX_INTERVAL_SECONDS).toBe(86_400);
    for (const intervalSeconds of [NaN, Infinity, -1, 0, 0.005, 1e9, MAX_INTERVAL_SECONDS + 1, '1']) {
      const e = refusal({ intervalSeconds });
      expect(e.message).toMatch(/^intervalSeconds must be a number from 0\.01 to 86400, got /);
    }
    expect(new TimeSeriesCollector({ intervalSeconds: MIN_INTERVAL_SECONDS }).intervalSeconds).toBe(0.01);
    expect(new TimeSeriesCollector({ intervalSeconds: MAX_INTERVAL_SECONDS }).intervalSeconds).toBe(86_400);
  });

  it('the other options are checked too, each named', () => {
    expect(refusal({ maxSamples: 2 ** 60 }).message).toMatch(/^maxSamples must be a positive integer/);
    expect(refusal({ maxSamples: Infinity }).message).toMatch(/^maxSamples/);
    // A JS timer fires at once past 2^31 - 1 ms, so a longer timeout is refused.
    expect(refusal({ collectorTimeoutMs: 1e12 }).message).toMatch(/^collectorTimeoutMs must be a number from 1 to 2147483647, got 1000000000000/);
    expect(refusal({ collectorTimeoutMs: NaN }).message).toMatch(/^collectorTimeoutMs/);
    expect(refusal({ logger: {} }).message).toMatch(/^logger must be an object with a warn\(message\) method/);
    expect(refusal({ logger: console.warn }).message).toMatch(/^logger/);
    expect(refusal({ sink: {} }).message).toMatch(/^sink must be a Sink .* it lacks open\(\), write\(\), flush\(\), close\(\), on\(\), off\(\)/);
    expect(refusal({ sink: 'out.jsonl' }).message).toMatch(/^sink must be a Sink/);
    expect(refusal({ signal: { aborted: false } }).message).toMatch(/^signal must be an AbortSignal/);
    expect(refusal({ metrics: ['disks'] }).message).toMatch(/unknown metric "disks"/);
    expect(refusal(null).message).toMatch(/collector options must be an object/);
  });
});

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('aggregate: min <= avg <= max', () => {
  it('the reported case: 11 x 0.3', () => {
    const a = summarize(Array<number>(11).fill(0.3), 10);
    expect(a.avg).toBe(0.3);
    expect(a.min).toBe(0.3);
    expect(a.max).toBe(0.3);
  });

  it('holds over random series (property)', () => {
    const kinds: ((r: () => number) => number)[] = [
      (r) => Math.round(r() * 1000) / 10, // percentages with one decimal
      (r) => r() * 1e-300, // tiny
      (r) => (r() - 0.5) * 2 * 1.79e308, // near overflow, both signs
      (r) => Math.floor(r() * 2 ** 53), // large counters
      (r) => [0.1, 0.2, 0.3, 0.7][Math.floor(r() * 4)], // decimals that do not add up exactly
    ];
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed);
      const kind = kinds[seed % kinds.length];
      const n = 1 + Math.floor(r() * 200);
      const constant = r() < 0.3;
      const first = kind(r);
      const values = Array.from({ length: n }, () => (constant ? first : kind(r)));
      const a = summarize(values, 1);
      const ctx = `seed ${seed}: ${JSON.stringify({ values: values.slice(0, 20), avg: a.avg })}`;
      expect(Number.isFinite(a.avg), ctx).toBe(true);
      expect(a.min <= a.avg && a.avg <= a.max, ctx).toBe(true);
      if (constant) expect(a.avg, ctx).toBe(first);
      expect(a.count).toBe(n);
    }
  });

  it('is close to the exact mean', () => {
    // 0.1 + 0.2 + ... drifts with a plain sum; compensated, it matches the decimal answer.
    const values = Array.from({ length: 1000 }, (_, i) => ((i % 10) + 1) / 10);
    expect(summarize(values, 1).avg).toBe(0.55);
  });

  it('refuses values that are not numbers', () => {
    expect(() => summarize([1, NaN], 1)).toThrow(/summarize: values\[1\] must be a number, got NaN/);
    expect(() => summarize('1,2' as unknown as number[], 1)).toThrow(InvalidOptionError);
    expect(summarize([], 0).count).toBe(0);
  });
});
