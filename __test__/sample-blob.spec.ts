/**
 * Samples from elsewhere (an agent's push, a file) kept in the collector's own compact encoding:
 * dicts → columns (lib/native/encode.ts) → one blob (the core's series encoding) → back to equal
 * dicts, for real samples of this host with processes and app values, for mlpstorage's samples,
 * and for error samples; a corrupt blob is an ERR_INVALID_DATA, never a crash.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { InvalidDataError, TimeSeriesCollector, TimeSeriesData } from '../lib/index.js';
import { binding } from '../lib/native/binding.js';
import { decodeBatch, LayoutCache } from '../lib/native/decode.js';
import { LayoutRegistry, toColumns } from '../lib/native/encode.js';
import { parseJson } from '../lib/json/parse.js';
import { stringifyJson } from '../lib/json/stringify.js';
import type { SampleDict } from '../lib/types/sample.js';

const FIXTURE = join(__dirname, 'fixtures', 'mlpstorage_timeseries.json');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Dicts through a blob and back, with the layouts as a store would keep them. */
function roundTrip(dicts: SampleDict[]): { back: SampleDict[]; bytes: number } {
  const registry = new LayoutRegistry();
  const { columns } = toColumns(dicts, registry);
  const blob = binding().encodeSampleBlob(columns);
  const batch = binding().decodeSampleBlob(blob);
  const cache = new LayoutCache();
  const back = batch.layoutIds.length === 0 ? [] : [...new Set(batch.layoutIds)].map((id) => registry.get(id));
  cache.add(back.map((s) => s.layout));
  const { samples } = decodeBatch(batch, '', cache);
  samples.forEach((s, i) => {
    const stored = registry.get(batch.layoutIds[i]);
    s.hostname = stored.hostname;
    if (!stored.ns) delete s.timestamp_ns;
  });
  return { back: samples, bytes: blob.length };
}

/** Dicts as exact JSON text (key order and big counters included), for an exact comparison. */
const json = (d: SampleDict[]): string => stringifyJson(d);

describe('sample blobs', () => {
  it('real samples with processes, app values, errors and custom collectors read back equal, in ≤ 200 B a sample gzipped', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.02, watch: ['self'], maxSamples: 1000, collectors: [{ name: 'tag', collect: () => ({ run: 'a', n: 2 ** 60 }) }] });
    await c.start();
    c.count('steps', 3);
    c.gauge('loss', -0.5);
    await sleep(300);
    c.gauge('loss', 1e-9);
    await sleep(300);
    const samples = (await c.stop()).map((s) => s.toDict());
    samples[3] = { ...samples[3], errors: { diskstats: 'gone', 'processes.x': 'EACCES' } };
    const { back, bytes } = roundTrip(samples);
    expect(json(back)).toEqual(json(samples));
    expect(back[5].collectors).toEqual({ tag: { run: 'a', n: 2 ** 60 } });

    // The size a store keeps (a chunk of them, deflated), per sample.
    const { columns } = toColumns(samples, new LayoutRegistry());
    const blob = binding().encodeSampleBlob(columns);
    expect(blob.length).toBe(bytes);
    expect(gzipSync(blob).length / samples.length).toBeLessThan(200);
  });

  it("mlpstorage's samples (whole-second timestamps, no timestamp_ns) and error samples read back equal", () => {
    const data = TimeSeriesData.fromDict(parseJson(readFileSync(FIXTURE, 'utf8')));
    for (const samples of data.samplesByHost.values()) {
      const dicts = samples.map((s) => s.toDict());
      if (dicts.length === 0) continue;
      dicts.push({ timestamp: dicts[0].timestamp, hostname: dicts[0].hostname, errors: { ssh: 'connection refused' } });
      expect(json(roundTrip(dicts).back)).toEqual(json(dicts));
    }
  });

  it('a blob cut short or corrupted is an ERR_INVALID_DATA naming the byte; columns that do not add up are refused', async () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 0.02 });
    await c.start();
    await sleep(100);
    const { columns } = toColumns((await c.stop()).map((s) => s.toDict()), new LayoutRegistry());
    const blob = binding().encodeSampleBlob(columns);
    for (const cut of [0, 3, 10, blob.length - 1]) {
      let thrown: unknown;
      try {
        binding().decodeSampleBlob(blob.subarray(0, cut));
      } catch (e) {
        thrown = e;
      }
      expect(thrown, `cut at ${cut}`).toMatchObject({ code: 'ERR_INVALID_DATA', message: expect.stringMatching(/sample blob: .* at byte \d+/) });
    }
    expect(() => binding().encodeSampleBlob({ ...columns, offsets: columns.offsets.subarray(1) })).toThrow(/offsets/);
    expect(InvalidDataError).toBeDefined();
  });
});
