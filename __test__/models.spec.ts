import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrown } from './support/thrown.js';

import { HostseriesError, InvalidDataError } from '../lib/errors.js';
import { parseJson } from '../lib/json/parse.js';
import { parseJsonExact } from '../lib/json/tokenizer.js';
import { pyFloatRepr } from '../lib/json/float.js';
import { pyQuote } from '../lib/json/string.js';
import { stringifyJson } from '../lib/json/stringify.js';
import { stringifySample } from '../lib/json/sample.js';
import { TimeSeriesData, TimeSeriesSample } from '../lib/index.js';
import type { SampleDict } from '../lib/types/sample.js';
import { sample, sampleDict } from './fixtures/samples.js';
import type { FloatSchema } from '../lib/types/files.js';
import type { TimeSeriesSampleInit } from '../lib/types/sample.js';
import { rng } from './support/rng.js';

const ROOT = join(__dirname, '..');
// python3 checks our JSON against json.dumps; in CI its absence is a failure, not a skip.
const hasPython = !!process.env.CI || spawnSync('python3', ['-c', 'import json'], { stdio: 'ignore' }).status === 0;
const hasNative = readdirSync(ROOT).some((f) => /^hostseries\.linux-.*\.node$/.test(f));

/** Run a Python 3 snippet with `input` on stdin; its stdout. */
function python(code: string, input: string): string {
  const r = spawnSync('python3', ['-c', code], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}

const SAMPLE_FLOATS: FloatSchema = { loadavg: { load_1min: true, load_5min: true, load_15min: true } };


describe('TimeSeriesSample', () => {
  it('refuses a construction without its timestamp or hostname, with a coded error', () => {
    const build = (init: unknown) => () => new TimeSeriesSample(init as TimeSeriesSampleInit);
    expect(thrown(build(undefined))).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/init must be an object/) });
    expect(thrown(build({}))).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/init\.timestamp/) });
    expect(thrown(build({ timestamp: '2026-01-01T00:00:00Z' }))).toMatchObject({ message: expect.stringMatching(/init\.hostname/) });
  });

  it('toDict gives snake_case keys in file order and leaves absent values out', () => {
    const s = new TimeSeriesSample({
      timestamp: '2026-01-24T12:00:00Z', hostname: 'h', vmstat: { pgpgin: 5 },
      loadavg: { load_1min: 0.5, load_5min: 0.25, load_15min: 0, running_processes: 1, total_processes: 99 },
      errors: { netdev: 'gone' }, timestampNs: Number(1769256000123456789n),
    });
    const d = s.toDict();
    expect(Object.keys(d)).toEqual(['timestamp', 'timestamp_ns', 'hostname', 'vmstat', 'loadavg', 'errors']);
    expect(d.timestamp_ns).toBe(1769256000123456768); // the nearest double: exact to 256 ns
    expect(d.vmstat).toEqual({ pgpgin: 5 });
    expect(s.toJSON()).toEqual(d);
    expect(s.date.toISOString()).toBe('2026-01-24T12:00:00.123Z');
  });

  it('round-trips object → dict → JSON → dict → object', () => {
    for (let i = 0; i < 12; i++) {
      const original = sample(i, `node${i % 3}`);
      const dict = original.toDict();
      const text = stringifyJson(dict, { indent: 2, floats: SAMPLE_FLOATS });
      const back = TimeSeriesSample.fromDict(parseJson(text));
      expect(back).toEqual(original);
      expect(back.toDict()).toEqual(dict);
      expect(stringifySample(back.toDict(), 2)).toBe(text);
      expect(back.vmstat!.nr_zone_write_pending).toBe(18446744073709551615n);
      expect(back.loadavg!.load_1min).toBe((i % 400) / 100);
    }
  });

  it('keeps u64 18446744073709551615 exact, as a bigint, through JSON', () => {
    const d = { ...sampleDict(0), vmstat: { max: 18446744073709551615n, safe: 9007199254740991, above: 9007199254740993n } };
    const text = stringifySample(d, 2);
    expect(text).toContain('"max": 18446744073709551615');
    expect(text).toContain('"above": 9007199254740993');
    const back = TimeSeriesSample.fromDict(parseJson(text));
    expect(back.vmstat).toEqual({ max: 18446744073709551615n, safe: 9007199254740991, above: 9007199254740993n });
    expect(stringifySample(back.toDict(), 2)).toBe(text);
  });

  it('reads our files through plain JSON.parse too: timestamp_ns is a number, counters may not come back rounded', () => {
    const d = { ...sampleDict(0), vmstat: { pgpgin: 5 }, timestamp_ns: Number(1795338881377252871n) };
    const text = stringifySample(d, 2);
    expect(text).toContain('"timestamp_ns": 1795338881377252864,'); // the double's exact digits
    const viaJsonParse = JSON.parse(text) as Record<string, unknown>;
    const back = TimeSeriesSample.fromDict(viaJsonParse);
    expect(back.timestampNs).toBe(1795338881377252864);
    // An exact (bigint) timestamp, as older files and the exact reader give, becomes the same number.
    expect(TimeSeriesSample.fromDict({ ...viaJsonParse, timestamp_ns: 1795338881377252871n }).timestampNs).toBe(1795338881377252864);
    viaJsonParse.vmstat = { big: 2 ** 60 };
    expect(() => TimeSeriesSample.fromDict(viaJsonParse)).toThrow(/vmstat\.big: expected a non-negative integer/);
  });

  it('normalises counters: small bigints become numbers, unknown keys are dropped, null means absent', () => {
    const d: Record<string, unknown> = {
      ...sampleDict(1), future_key: { x: 1 }, netdev: null,
      vmstat: { a: 5n, b: 7 },
      diskstats: [{ ...sampleDict(1).diskstats![2], extra: 'ignored' }],
    };
    const s = TimeSeriesSample.fromDict(d);
    expect(s.vmstat).toEqual({ a: 5, b: 7 });
    expect(typeof s.vmstat!.a).toBe('number');
    expect(s.netdev).toBeUndefined();
    expect(Object.keys(s.diskstats![0])).not.toContain('extra');
    expect(Object.keys(s.toDict())).not.toContain('future_key');
  });

  it('rejects bad input with an InvalidDataError naming the field', () => {
    const base = sampleDict(2) as unknown as Record<string, unknown>;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, hostname: undefined }, 'hostname: required field is missing'],
      [{ ...base, hostname: 42 }, 'hostname: expected a string, got 42'],
      [{ ...base, timestamp: '24/01/2026' }, 'timestamp: expected an ISO 8601 UTC time'],
      [{ ...base, vmstat: { pgpgin: -3 } }, 'vmstat.pgpgin: expected a non-negative integer, got -3'],
      [{ ...base, vmstat: { pgpgin: '12' } }, 'vmstat.pgpgin: expected a non-negative integer, got "12"'],
      [{ ...base, vmstat: { pgpgin: 1.5 } }, 'vmstat.pgpgin: expected a non-negative integer, got 1.5'],
      [{ ...base, vmstat: { pgpgin: 18446744073709551616n } }, 'vmstat.pgpgin: expected a non-negative integer, got 18446744073709551616n'],
      [{ ...base, vmstat: { pgpgin: 2 ** 60 } }, 'vmstat.pgpgin: expected a non-negative integer (a bigint beyond 2^53 - 1)'],
      [{ ...base, vmstat: [1, 2] }, 'vmstat: expected an object, got an array'],
      [{ ...base, diskstats: [(base.diskstats as object[])[0], { ...(base.diskstats as object[])[1], reads_completed: -1 }] }, 'diskstats[1].reads_completed: expected a non-negative integer, got -1'],
      [{ ...base, diskstats: [{ device_name: 'sda' }] }, 'diskstats[0].reads_completed: required field is missing'],
      [{ ...base, netdev: [{ ...(base.netdev as object[])[0], interface_name: 7 }] }, 'netdev[0].interface_name: expected a string, got 7'],
      [{ ...base, loadavg: { ...(base.loadavg as object), load_5min: 'high' } }, 'loadavg.load_5min: expected a non-negative number, got "high"'],
      [{ ...base, stat: { ...(base.stat as object), cpus: { cpu0: { user: 1 } } } }, 'stat.cpus.cpu0.nice: required field is missing'],
      [{ ...base, errors: { ssh: 1 } }, 'errors.ssh: expected a string, got 1'],
      [{ ...base, timestamp_ns: -1 }, 'timestamp_ns: expected a non-negative integer, got -1'],
    ];
    for (const [d, message] of cases) {
      const e = thrown(() => TimeSeriesSample.fromDict(d, 'samples_by_host.node1[3]'));
      expect(e).toBeInstanceOf(InvalidDataError);
      expect(e).toBeInstanceOf(HostseriesError);
      expect((e as InvalidDataError).code).toBe('ERR_INVALID_DATA');
      expect(e.message).toContain(`samples_by_host.node1[3].${message}`);
    }
    expect(thrown(() => TimeSeriesSample.fromDict('nope')).message).toBe('expected an object, got "nope"');
  });
});

describe('JSON.stringify on samples, sample dicts and TimeSeriesData', () => {
  // Node 22+ has JSON.rawJSON (exact big counters through JSON.stringify); Node 20 does not.
  const hasRawJson = typeof (JSON as unknown as { rawJSON?: unknown }).rawJSON === 'function';
  const BIG = '18446744073709551615';

  it('takes a sample, its dict and a TimeSeriesData, big counters included, and gives the same values as our writer', () => {
    const s = sample(3); // vmstat.nr_zone_write_pending is 2^64 - 1, a bigint
    expect(typeof s.timestampNs).toBe('number');
    const d = new TimeSeriesData({
      collectionIntervalSeconds: 0.5, startTime: '2026-01-24T12:00:00Z', endTime: '2026-01-24T12:00:30Z',
      collectionMethod: 'local', samplesByHost: { node1: [s, sample(4)] },
    });
    const cases: [unknown, boolean][] = [[s, true], [s.toDict(), true], [d, true], [d.toDict(), true], [s.toJSON(), false], [d.toJSON(), false]];
    for (const [v, exactForUs] of cases) {
      const text = JSON.stringify(v);
      // JS spells the double 1769256003123456768 with its shortest digits.
      expect(text).toContain('"timestamp_ns":1769256003123456800');
      expect(text).toContain(`"nr_zone_write_pending":${hasRawJson ? BIG : '18446744073709552000'}`);
      // The same document as hostseries' own writer, up to the spellings JSON.parse forgets.
      expect(JSON.parse(text)).toEqual(JSON.parse(stringifyJson(v)));
      // Our writer stays exact with the models and their dicts (and with rawJSON values, written
      // as their text); what toJSON rounded on Node 20 it can only write as it is.
      expect(stringifyJson(v)).toContain(`"nr_zone_write_pending":${exactForUs || hasRawJson ? BIG : '18446744073709551616'}`);
      expect(stringifyJson(v)).toContain('"timestamp_ns":1769256003123456768');
    }
    // The models themselves are written from their exact dicts, on every runtime.
    expect(stringifyJson(s)).toContain(`"nr_zone_write_pending":${BIG}`);
    expect(stringifyJson(d)).toContain(`"nr_zone_write_pending":${BIG}`);
    expect(TimeSeriesSample.fromDict(parseJson(stringifyJson(s))).vmstat!.nr_zone_write_pending).toBe(18446744073709551615n);
    // toJSON leaves the sample alone: its counters stay bigints.
    expect(s.vmstat!.nr_zone_write_pending).toBe(18446744073709551615n);
    expect(Object.keys(s.toDict())).not.toContain('toJSON');
  });

  it('takes a plain sample dict without big counters as it is', () => {
    const d = sampleDict(1);
    delete d.vmstat;
    expect(JSON.parse(JSON.stringify(d))).toEqual(JSON.parse(stringifySample(d)));
  });
});

describe('stringifyJson keeps the format\'s floats floats', () => {
  it('writes collection_interval_seconds and the load averages as Python does, without a schema', () => {
    const s = new TimeSeriesSample({
      timestamp: '2026-01-24T12:00:00Z', hostname: 'h',
      loadavg: { load_1min: 1, load_5min: 0, load_15min: 2.5, running_processes: 1, total_processes: 99 },
    });
    const d = new TimeSeriesData({ collectionIntervalSeconds: 10, startTime: '', endTime: '', collectionMethod: 'local', samplesByHost: { h: [s] } });
    const text = stringifyJson(d, { indent: 2 });
    expect(text).toContain('"collection_interval_seconds": 10.0,');
    expect(text).toContain('"load_1min": 1.0,');
    expect(text).toContain('"load_5min": 0.0,');
    expect(text).toContain('"running_processes": 1,');
    expect(stringifyJson(d.toDict())).toContain('"collection_interval_seconds":10.0,');
    expect(stringifyJson(s)).toContain('"loadavg":{"load_1min":1.0,"load_5min":0.0,"load_15min":2.5,"running_processes":1,');
    // Other numbers keep their integer form; an explicit schema still rules.
    expect(stringifyJson({ num_samples: 10, x: 2 })).toBe('{"num_samples":10,"x":2}');
    expect(stringifyJson({ constructor: [{ load_1min: 1 }] })).toBe('{"constructor":[{"load_1min":1.0}]}');
    expect(stringifyJson({ collection_interval_seconds: 10 }, { floats: {} })).toBe('{"collection_interval_seconds":10}');
    if (hasPython) {
      // Python's json.dumps of the same values (its floats are floats) gives the same text.
      expect(python('import json,sys; print(json.dumps(json.load(sys.stdin), indent=2), end="")', text)).toBe(text);
    }
  });
});

describe('TimeSeriesData', () => {
  const data = (): TimeSeriesData => new TimeSeriesData({
    collectionIntervalSeconds: 10, startTime: '2026-01-24T12:00:00Z', endTime: '2026-01-24T12:00:30Z',
    collectionMethod: 'ssh', hostsRequested: ['node1', 'node-02.example.org', 'idle'],
    samplesByHost: new Map([['node1', [sample(0), sample(1)]], ['node-02.example.org', [sample(0, 'node-02')]], ['idle', []]]),
  });

  it('fills numSamples and hostsCollected, and writes the mlpstorage dict in file order', () => {
    const d = data();
    expect(d.numSamples).toBe(3);
    expect(d.hostsCollected).toEqual(['node1', 'node-02.example.org']);
    const dict = d.toDict();
    expect(Object.keys(dict)).toEqual(['collection_interval_seconds', 'start_time', 'end_time', 'num_samples', 'samples_by_host',
      'collection_method', 'hosts_requested', 'hosts_collected']);
    expect(Object.keys(dict.samples_by_host)).toEqual(['node1', 'node-02.example.org', 'idle']);
    expect(dict.samples_by_host.node1[1].timestamp).toBe('2026-01-24T12:00:01Z');
    const fromRecord = new TimeSeriesData({ ...d, samplesByHost: { a: [sample(0, 'a')] } });
    expect([...fromRecord.samplesByHost.keys()]).toEqual(['a']);
  });

  it('round-trips object → dict → JSON → dict → object, interval written as a float', () => {
    const original = data();
    const text = stringifyJson(original, { indent: 2, floats: { collection_interval_seconds: true, samples_by_host: { '*': { '*': SAMPLE_FLOATS } } } });
    expect(text).toContain('"collection_interval_seconds": 10.0,');
    const back = TimeSeriesData.fromDict(parseJson(text));
    expect(back).toEqual(original);
    expect(back.samplesByHost.get('idle')).toEqual([]);
  });

  it('names the bad field with its full path', () => {
    const dict = data().toDict() as unknown as { samples_by_host: Record<string, Record<string, unknown>[]> };
    const bad = sampleDict(5) as unknown as Record<string, unknown>;
    (bad.diskstats as Record<string, unknown>[])[0] = { ...(bad.diskstats as object[])[0], reads_completed: -7 };
    dict.samples_by_host.node1.push(bad, bad);
    const e = thrown(() => TimeSeriesData.fromDict(dict));
    expect(e).toBeInstanceOf(InvalidDataError);
    expect(e.message).toBe('samples_by_host.node1[2].diskstats[0].reads_completed: expected a non-negative integer, got -7');
    expect((e as InvalidDataError).path).toBe('samples_by_host.node1[2].diskstats[0].reads_completed');

    const odd = { ...data().toDict(), samples_by_host: { 'node-02.example.org': [{ timestamp: '2026-01-24T12:00:00Z' }] } };
    expect(thrown(() => TimeSeriesData.fromDict(odd)).message).toBe('samples_by_host["node-02.example.org"][0].hostname: required field is missing');

    for (const [patch, message] of [
      [{ collection_method: 'mpi' }, 'collection_method: expected one of "local", "ssh", "unknown", got "mpi"'],
      [{ num_samples: -1 }, 'num_samples: expected a non-negative integer, got -1'],
      [{ hosts_requested: ['a', 3] }, 'hosts_requested[1]: expected a string, got 3'],
      [{ start_time: 5 }, 'start_time: expected an ISO 8601 UTC time'],
      [{ samples_by_host: [] }, 'samples_by_host: expected an object, got an array'],
      [{ collection_interval_seconds: undefined }, 'collection_interval_seconds: required field is missing'],
    ] as const) {
      expect(thrown(() => TimeSeriesData.fromDict({ ...data().toDict(), ...patch })).message).toContain(message);
    }
    // The reference writes '' for an unknown start or end time.
    expect(TimeSeriesData.fromDict({ ...data().toDict(), end_time: '' }).endTime).toBe('');
  });
});

describe('mlpstorage\'s rules for the run metadata', () => {
  const run = { collectionIntervalSeconds: 10, startTime: '2026-01-24T12:00:00Z', endTime: '2026-01-24T12:00:30Z' };
  const errorSample = (host: string): TimeSeriesSample => new TimeSeriesSample({ timestamp: '2026-01-24T12:00:00Z', hostname: host, errors: { ssh: 'timeout' } });

  it('single host: {hostname: samples} even when empty, hosts_collected once there is a sample, local', () => {
    const empty = TimeSeriesData.forLocalHost({ ...run, hostname: 'node1', samples: [] });
    expect(empty.toDict()).toMatchObject({ samples_by_host: { node1: [] }, num_samples: 0, collection_method: 'local', hosts_requested: ['node1'], hosts_collected: [] });
    const one = TimeSeriesData.forLocalHost({ ...run, hostname: 'node1', samples: [sample(0)] });
    expect(one.toDict()).toMatchObject({ num_samples: 1, collection_method: 'local', hosts_requested: ['node1'], hosts_collected: ['node1'] });
  });

  it('several hosts: every requested host listed, error samples count as collected, ssh only with more than one host collected', () => {
    const d = TimeSeriesData.forHosts({
      ...run, hostsRequested: ['a', 'b', 'c'],
      samplesByHost: new Map([['b', [errorSample('b')]], ['a', [sample(0, 'a'), sample(1, 'a')]], ['extra', [sample(0, 'extra')]]]),
    });
    expect([...d.samplesByHost.keys()]).toEqual(['a', 'b', 'c', 'extra']);
    expect(d.samplesByHost.get('c')).toEqual([]);
    expect(d.hostsCollected).toEqual(['a', 'b', 'extra']);
    expect([d.numSamples, d.collectionMethod]).toEqual([4, 'ssh']);
    expect(d.hostsRequested).toEqual(['a', 'b', 'c']);
    // One host collected is `local` in mlpstorage, whatever the method that sampled it.
    const single = TimeSeriesData.forHosts({ ...run, hostsRequested: ['remote1', 'remote2'], samplesByHost: new Map([['remote1', [sample(0, 'remote1')]]]) });
    expect([single.hostsCollected, single.collectionMethod]).toEqual([['remote1'], 'local']);
    // The constructor applies the same rules where the caller does not say.
    expect(new TimeSeriesData({ ...run, samplesByHost: { x: [sample(0)], y: [errorSample('y')] } }).collectionMethod).toBe('ssh');
    expect(TimeSeriesData.collectionMethodFor(['x'])).toBe('local');
  });

  it('reads collection_method "unknown", the default of mlpstorage\'s from_dict', () => {
    const dict = { ...TimeSeriesData.forLocalHost({ ...run, hostname: 'n', samples: [] }).toDict(), collection_method: 'unknown' };
    expect(TimeSeriesData.fromDict(dict).collectionMethod).toBe('unknown');
  });
});

describe('JSON writer', () => {
  it('writes floats as Python repr', () => {
    const cases: [number, string][] = [
      [1, '1.0'], [0, '0.0'], [-0, '-0.0'], [0.52, '0.52'], [10, '10.0'], [0.1 + 0.2, '0.30000000000000004'],
      [1e16, '1e+16'], [1.5e16, '1.5e+16'], [9999999999999998, '9999999999999998.0'], [1e-4, '0.0001'],
      [1e-5, '1e-05'], [1.25e-7, '1.25e-07'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
      [123456789012345680, '1.2345678901234568e+17'], [1e22, '1e+22'], [-2.5e-10, '-2.5e-10'],
      [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
    ];
    for (const [x, repr] of cases) expect(pyFloatRepr(x), String(x)).toBe(repr);
  });

  it('escapes strings as ensure_ascii does', () => {
    expect(pyQuote('plain /path')).toBe('"plain /path"');
    expect(pyQuote('q"b\\n\n\r\t\b\f\u0001\u007f')).toBe('"q\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\\u007f"');
    expect(pyQuote('héé €😀')).toBe('"h\\u00e9\\u00e9 \\u20ac\\ud83d\\ude00"');
    expect(pyQuote('\ud800')).toBe('"\\ud800"');
  });

  it('writes Python json.dump layout: empties, nesting, bigints, integral numbers', () => {
    const v = { a: [], b: {}, c: [1, [2, {}]], d: { e: null, f: true, g: 12345678901234567890n }, h: 1e21, skip: undefined };
    expect(stringifyJson(v, { indent: 2 })).toBe(
      '{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    [\n      2,\n      {}\n    ]\n  ],\n  "d": {\n    "e": null,\n    "f": true,\n' +
      '    "g": 12345678901234567890\n  },\n  "h": 1000000000000000000000\n}');
    expect(stringifyJson(v)).toBe('{"a":[],"b":{},"c":[1,[2,{}]],"d":{"e":null,"f":true,"g":12345678901234567890},"h":1000000000000000000000}');
  });

  it.skipIf(!hasPython)('writes exactly what Python json.dumps writes, for random values (python3)', () => {
    const rnd = rng(42);
    const values: unknown[] = [];
    for (let i = 0; i < 400; i++) values.push(randomValue(rnd, 0));
    const floats: FloatSchema = { '*': { f: true } };
    const doc = values.map((v, i) => ({ f: randomFloat(rnd, i), v }));
    const indented = stringifyJson(doc, { indent: 2, floats });
    expect(python('import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), indent=2))', indented)).toBe(indented);
    const compact = stringifyJson(doc, { floats });
    expect(python("import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), separators=(',', ':')))", compact)).toBe(compact);
    expect(parseJson(compact)).toEqual(parseJsonExact(compact));
  });

  it('writes a sample the fast way exactly as the general writer does', () => {
    const variants: SampleDict[] = [
      sampleDict(3),
      { ...sampleDict(4), diskstats: [{ ...sampleDict(4).diskstats![0], device_name: 'sdé' }] },
      { ...sampleDict(5), vmstat: { big: 18446744073709551615n, n: 1 } },
      { ...sampleDict(6), collectors: { gpu: { util: 0.5, temp: 61, name: 'A100 ü' } }, errors: { x: 'DEL\u007f and "quotes" and 1.5 and null' } },
      { timestamp: '2026-01-24T12:00:00Z', hostname: 'bare' },
    ];
    for (const d of variants) {
      for (const [indent, level] of [[2, 0], [2, 3], [4, 1], [undefined, 0]] as const) {
        expect(stringifySample(d, indent, level)).toBe(stringifyJson(d, { indent, level, floats: SAMPLE_FLOATS }));
      }
    }
  });
});

describe('JSON reader', () => {
  it('keeps integers above 2^53 exact and leaves strings and floats alone', () => {
    const text = '{"a": 18446744073709551615, "b": [-9223372036854775808, 9007199254740991, 1234567890123456.5, 12345678901234567e3],' +
      ' "s": "12345678901234567890 \\" 98765432109876543210", "k12345678901234567": 1, "z": 0.000012345678901234567}';
    const v = parseJson(text);
    expect(v).toEqual({
      a: 18446744073709551615n, b: [-9223372036854775808n, 9007199254740991, 1234567890123456.5, 12345678901234567e3],
      s: '12345678901234567890 " 98765432109876543210', k12345678901234567: 1, z: 0.000012345678901234567,
    });
    expect(parseJsonExact(text)).toEqual(v);
    expect(parseJson('12345678901234567890')).toBe(12345678901234567890n);
    expect(parseJson(' [\n 12345678901234567890\n]')).toEqual([12345678901234567890n]);
    // A text that already uses the marker escapes still parses exactly.
    expect(parseJson('{"m": "\\u0000\\u0001", "n": 12345678901234567890}')).toEqual({ m: '\u0000\u0001', n: 12345678901234567890n });
  });

  it('rejects invalid JSON like JSON.parse', () => {
    for (const bad of ['{"a": 012345678901234567}', '{"a": 12345678901234567', '[1,]', '{"a" 1}', '']) {
      expect(() => parseJson(bad), bad).toThrow(SyntaxError);
      expect(() => parseJsonExact(bad), bad).toThrow(SyntaxError);
    }
  });

  it('agrees with the exact tokenizer on random documents', () => {
    const rnd = rng(7);
    for (let i = 0; i < 300; i++) {
      const v = randomValue(rnd, 0);
      for (const indent of [undefined, 2]) {
        const text = stringifyJson(v, { indent });
        expect(parseJson(text)).toEqual(parseJsonExact(text));
      }
    }
  });
});

describe.skipIf(!hasNative)('real samples of this host (native)', () => {
  it('round-trip object → dict → JSON → dict → object and validate as written by the native core', async () => {
    const { sampleOnce } = await import('../lib/native/sampler.js');
    for (let i = 0; i < 3; i++) {
      const dict = await sampleOnce();
      const checked = TimeSeriesSample.fromDict(dict);
      expect(checked.toDict()).toEqual(dict);
      const s = TimeSeriesSample.fromTrustedDict(dict);
      expect(typeof s.timestampNs).toBe('number');
      // A real sample, as the native core gives it, goes through JSON.stringify as it is.
      expect(JSON.parse(JSON.stringify(dict))).toEqual(JSON.parse(stringifySample(dict)));
      expect(s.diskstats!.length + s.netdev!.length).toBeGreaterThan(0);
      expect(Object.keys(s.vmstat!).length).toBeGreaterThan(50);
      for (const indent of [2, undefined]) {
        const text = stringifySample(s.toDict(), indent);
        const back = TimeSeriesSample.fromDict(parseJson(text));
        expect(back).toEqual(s);
        expect(stringifySample(back.toDict(), indent)).toBe(text);
        expect(text).toBe(stringifyJson(s.toDict(), { indent, floats: SAMPLE_FLOATS }));
      }
    }
  });

  it.skipIf(!hasPython)('writes real samples exactly as Python does (python3)', async () => {
    const { sampleOnce } = await import('../lib/native/sampler.js');
    const text = stringifySample(await sampleOnce(), 2);
    expect(python('import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), indent=2))', text)).toBe(text);
  });
});

// --- random documents -------------------------------------------------------------------------

function randomFloat(rnd: () => number, i: number): number {
  switch (i % 4) {
    case 0: return Math.round(rnd() * 1000) / 100; // load-average-like
    case 1: return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 50 - 25);
    case 2: return Math.floor(rnd() * 1e6); // an integral float: 3.0
    default: {
      const b = new DataView(new ArrayBuffer(8));
      b.setUint32(0, (rnd() * 2 ** 32) >>> 0);
      b.setUint32(4, (rnd() * 2 ** 32) >>> 0);
      const x = b.getFloat64(0);
      return Number.isFinite(x) ? x : 1.5;
    }
  }
}

function randomString(rnd: () => number): string {
  const pool = ['a', 'Z', '0', '9', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '€', '\ud83d\ude00', '\ud800', '\udfff', '12345678901234567890', ': 12345678901234567,', 'null'];
  let s = '';
  const n = Math.floor(rnd() * 8);
  for (let i = 0; i < n; i++) s += pool[Math.floor(rnd() * pool.length)];
  return s;
}

function randomValue(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.45) {
    const k = Math.floor(rnd() * 7);
    switch (k) {
      case 0: return Math.floor(rnd() * 2 ** 53) * (rnd() < 0.2 ? -1 : 1);
      case 1: return BigInt(Math.floor(rnd() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(rnd() * 2 ** 32)) + 2n ** 53n;
      case 2: return randomFloat(rnd, Math.floor(rnd() * 4));
      case 3: return randomString(rnd);
      case 4: return rnd() < 0.5;
      case 5: return null;
      default: return -(2n ** 63n) + BigInt(Math.floor(rnd() * 1000));
    }
  }
  const n = Math.floor(rnd() * 5);
  if (r < 0.7) return Array.from({ length: n }, () => randomValue(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) o[`k${i}${randomString(rnd)}`] = randomValue(rnd, depth + 1);
  return o;
}
