import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, type Stats, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

import { FileError, InvalidDataError, InvalidOptionError, LifecycleError } from '../lib/errors.js';
import { parseJson } from '../lib/json/parse.js';
import { stringifyJson } from '../lib/json/stringify.js';
import { TimeSeriesData, TimeSeriesSample } from '../lib/index.js';
import { writeFileAtomic } from '../lib/files/atomic.js';
import { readRecording } from '../lib/files/read-recording.js';
import {
  convertJsonlToJson, JsonlSink, readTimeSeriesJson, readTimeSeriesJsonl, writeTimeSeriesJson, writeTimeSeriesJsonl, type RunMetadata,
} from '../lib/index.js';
import { SamplesSplitter } from '../lib/files/json-splitter.js';
import { sample, T0_NS } from './fixtures/samples.js';

const ROOT = join(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'mlpstorage_timeseries.json');
const CHILD = join(__dirname, 'fixtures', 'sink-child.ts');
const VITE_NODE = join(ROOT, 'node_modules', 'vite-node', 'vite-node.mjs');
const isRoot = process.getuid?.() === 0;
const hasPython = spawnSync('python3', ['-c', 'import json'], { stdio: 'ignore' }).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'hostseries-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name: string): string => join(dir, `${n++}-${name}`);

const META: RunMetadata = { collectionIntervalSeconds: 10, startTime: '2026-01-24T12:00:00Z', collectionMethod: 'local', hostsRequested: ['node1', 'node2'] };

function data(samples = 5): TimeSeriesData {
  return new TimeSeriesData({
    ...META, hostsRequested: [...META.hostsRequested], endTime: '2026-01-24T12:01:00Z',
    samplesByHost: { node1: Array.from({ length: samples }, (_, i) => sample(i)), node2: Array.from({ length: samples }, (_, i) => sample(i, 'node2')) },
  });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Set (or, with `undefined`, delete) the value at `path` inside a parsed document. */
function edit(doc: unknown, path: (string | number)[], value: unknown): void {
  let o = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

const indexOf = (ns: unknown): number => Number((BigInt(ns as bigint) - T0_NS) / 1_000_000_000n);

describe('TimeSeriesData JSON file', () => {
  it('loads the hand-made mlpstorage fixture and writes it back byte for byte', async () => {
    const d = await readTimeSeriesJson(FIXTURE);
    expect(d.collectionIntervalSeconds).toBe(10);
    expect(d.numSamples).toBe(5);
    expect([...d.samplesByHost.keys()]).toEqual(['node1', 'node-02.example.org', 'node3']);
    const first = d.samplesByHost.get('node1')![0];
    expect(first.vmstat!.nr_zone_write_pending).toBe(18446744073709551615n);
    expect(first.vmstat!.pgfault).toBe(9007199254740993n);
    expect(first.loadavg).toEqual({ load_1min: 0.52, load_5min: 0.31, load_15min: 0.1, running_processes: 2, total_processes: 512 });
    expect(first.diskstats!.map((e) => Object.keys(e).length)).toEqual([18, 16, 12]);
    expect(d.samplesByHost.get('node1')![2].netdev).toBeUndefined();
    expect(d.samplesByHost.get('node-02.example.org')![0].errors).toEqual({ ssh: "connexion refusée par l'hôte « node-02 »\ttab" });

    // stringifyJson writes the same bytes, its floats floats (10.0), as Python's json.dump does.
    expect(stringifyJson(d, { indent: 2 })).toBe(readFileSync(FIXTURE, 'utf8').replace(/\n$/, ''));

    const out = tmp('fixture.json');
    await writeTimeSeriesJson(out, d);
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);

    const gz = tmp('fixture.json.gz');
    await writeTimeSeriesJson(gz, d);
    expect(gunzipSync(readFileSync(gz)).equals(readFileSync(FIXTURE))).toBe(true);
    const again = tmp('again.json');
    await writeTimeSeriesJson(again, await readTimeSeriesJson(gz));
    expect(readFileSync(again).equals(readFileSync(FIXTURE))).toBe(true);
  });

  it.skipIf(!hasPython)('the fixture is what Python json.dump(indent=2) writes, and so is ours (python3)', async () => {
    const redump = (file: string): Buffer => spawnSync('python3', ['-c',
      'import json,sys; d=json.load(open(sys.argv[1])); sys.stdout.write(json.dumps(d, indent=2))', file]).stdout;
    expect(redump(FIXTURE).equals(readFileSync(FIXTURE))).toBe(true);
    const ours = tmp('ours.json');
    await writeTimeSeriesJson(ours, data(3));
    expect(redump(ours).equals(readFileSync(ours))).toBe(true);
  });

  it('round-trips object → file → object, plain and gzipped (gzip found by its magic bytes)', async () => {
    const d = data();
    for (const name of ['rt.json', 'rt.json.gz']) {
      const p = tmp(name);
      await writeTimeSeriesJson(p, d);
      expect(await readTimeSeriesJson(p)).toEqual(d);
    }
    const hidden = tmp('gzip-without-extension.json');
    await writeTimeSeriesJson(hidden, d, { gzip: true });
    expect(readFileSync(hidden).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(await readTimeSeriesJson(hidden)).toEqual(d);
  });

  it('keeps big integers exact wherever they are (collectors, a nested timestamp_ns)', async () => {
    const odd = new TimeSeriesSample({
      ...sample(3), collectors: { gpu: { energy_uj: 12345678901234567890n, util: 0.25 }, clock: { timestamp_ns: 1769256000999999999n } },
    });
    const d = new TimeSeriesData({ ...META, hostsRequested: ['node1'], endTime: '2026-01-24T12:01:00Z', samplesByHost: { node1: [sample(1), odd] } });
    for (const name of ['odd.json', 'odd.jsonl']) {
      const p = tmp(name);
      if (name.endsWith('.json')) await writeTimeSeriesJson(p, d);
      else await (async () => {
        const sink = new JsonlSink(p);
        await sink.open(META);
        for (const s of d.samplesByHost.get('node1')!) sink.write(s);
        await sink.close({ endTime: d.endTime });
      })();
      const back = name.endsWith('.json') ? await readTimeSeriesJson(p) : (await readTimeSeriesJsonl(p)).data;
      expect(back.samplesByHost.get('node1')![1]).toEqual(odd);
    }
  });

  it('streams documents in any layout (compact, one host array split across chunks)', async () => {
    const compact = tmp('compact.json');
    writeFileSync(compact, stringifyJson(parseJson(readFileSync(FIXTURE, 'utf8'))));
    const d = await readTimeSeriesJson(compact);
    expect(d.samplesByHost.get('node-02.example.org')!.length).toBe(2);
    expect(d.samplesByHost.get('node1')![0].vmstat!.pgfault).toBe(9007199254740993n);
    const big = tmp('big.json');
    await writeTimeSeriesJson(big, data(300)); // > 1 MiB: samples straddle read chunks
    expect((await readTimeSeriesJson(big)).samplesByHost.get('node2')![299]).toEqual(sample(299, 'node2'));
  });

  it('splits a document the same way whatever the chunk boundaries', () => {
    const d = parseJson(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
    const byHost = d.samples_by_host as Record<string, unknown[]>;
    // Awkward strings: escapes, brackets and quotes inside strings, a backslash just before a quote.
    byHost['we\\"ird [host] {x}'] = [{ ...(byHost.node1[0] as object), errors: { 'k"[': 'ends with a backslash \\', q: '"}]' } }];
    const doc = Buffer.from(stringifyJson({ extra: { deep: [{ a: [[{ b: '}' }]] }] }, ...d, tail: [1, { c: '[' }] }, { indent: 2 }));
    const split = (size: (k: number) => number): unknown => {
      const events: unknown[] = [];
      const sp = new SamplesSplitter((host, i, text) => events.push([host, i, parseJson(text)]), (host) => events.push(host));
      for (let o = 0, k = 0; o < doc.length; k++) {
        const len = Math.max(1, size(k));
        sp.push(doc.subarray(o, o + len));
        o += len;
      }
      return [events, parseJson(sp.end())];
    };
    const whole = split(() => doc.length) as [unknown[], Record<string, unknown>];
    expect(whole[0].filter((e) => typeof e === 'string')).toEqual(Object.keys(byHost));
    expect(whole[0].filter((e) => Array.isArray(e)).map((e) => (e as unknown[])[2])).toEqual(Object.values(byHost).flat());
    expect((whole[1].samples_by_host as Record<string, unknown[]>)['we\\"ird [host] {x}']).toEqual([]);
    expect(whole[1].extra).toEqual({ deep: [{ a: [[{ b: '}' }]] }] });
    let seed = 3;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const size of [(): number => 1, (): number => 2, (): number => 7, (): number => 1 + Math.floor(rnd() * 40)]) {
      expect(split(size)).toEqual(whole);
    }
  });

  it('replaces a file atomically and leaves no temp file', async () => {
    const p = tmp('replace.json');
    writeFileSync(p, 'old content');
    await writeTimeSeriesJson(p, data(2), { overwrite: true });
    expect((await readTimeSeriesJson(p)).numSamples).toBe(4);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a truncated file as invalid data naming the file', async () => {
    const text = readFileSync(FIXTURE);
    for (const cut of [10, 3000, text.length - 40, text.length - 1]) {
      const p = tmp('cut.json');
      writeFileSync(p, text.subarray(0, cut));
      const e = await rejection(readTimeSeriesJson(p));
      expect(e, `cut at ${cut}`).toBeInstanceOf(InvalidDataError);
      expect(e.message).toContain(p);
    }
    const gz = tmp('cut.json.gz');
    const z = gzipSync(text);
    writeFileSync(gz, z.subarray(0, z.length >> 1));
    const e = await rejection(readTimeSeriesJson(gz));
    expect(e).toBeInstanceOf(InvalidDataError);
    expect(e.message).toMatch(/truncated/);
  });

  it('reports bad values and a missing hostname with their path and the file', async () => {
    // Edited with the exact reader/writer: JSON.parse would round the u64 counters (and fail them).
    const fixture = (): unknown => parseJson(readFileSync(FIXTURE, 'utf8'));
    const d = fixture();
    edit(d, ['samples_by_host', 'node1', 1, 'diskstats', 0, 'reads_completed'], -5);
    const p = tmp('negative.json');
    writeFileSync(p, stringifyJson(d, { indent: 2 }));
    const e = await rejection(readTimeSeriesJson(p));
    expect(e).toBeInstanceOf(InvalidDataError);
    expect((e as InvalidDataError).path).toBe('samples_by_host.node1[1].diskstats[0].reads_completed');
    expect(e.message).toBe(`samples_by_host.node1[1].diskstats[0].reads_completed: expected a non-negative integer, got -5 (in ${p})`);

    const d2 = fixture();
    edit(d2, ['samples_by_host', 'node-02.example.org', 1, 'hostname'], undefined);
    edit(d2, ['samples_by_host', 'node1', 0, 'loadavg', 'load_1min'], 'high');
    const p2 = tmp('nohost.json');
    writeFileSync(p2, stringifyJson(d2));
    // Samples are checked in file order: node1[0] comes first.
    expect((await rejection(readTimeSeriesJson(p2))).message).toContain('samples_by_host.node1[0].loadavg.load_1min: expected a non-negative number, got "high"');
    edit(d2, ['samples_by_host', 'node1', 0, 'loadavg', 'load_1min'], 0.5);
    writeFileSync(p2, stringifyJson(d2));
    expect((await rejection(readTimeSeriesJson(p2))).message).toBe(`samples_by_host["node-02.example.org"][1].hostname: required field is missing (in ${p2})`);

    const d3 = fixture();
    edit(d3, ['num_samples'], 'five');
    const p3 = tmp('meta.json');
    writeFileSync(p3, stringifyJson(d3));
    expect((await rejection(readTimeSeriesJson(p3))).message).toBe(`num_samples: expected a non-negative integer, got "five" (in ${p3})`);
  });

  it('refuses what is not a TimeSeriesData, or no path, with a coded error naming the argument', async () => {
    const cases: [unknown, unknown, RegExp][] = [
      [tmp('x.json'), {}, /data must be a TimeSeriesData, got a plain object \(TimeSeriesData\.fromDict\(dict\) builds one from a dict\)/],
      [tmp('x.json'), data(1).toDict(), /data must be a TimeSeriesData, got a plain object/],
      [tmp('x.json'), null, /data must be a TimeSeriesData, got null/],
      [tmp('x.json'), [sample(0)], /data must be a TimeSeriesData, got an array/],
      [tmp('x.json'), sample(0), /data must be a TimeSeriesData, got a TimeSeriesSample/],
      ['', data(1), /path must be a non-empty string, got string ""/],
      [undefined, data(1), /path must be a non-empty string, got undefined/],
    ];
    for (const write of [writeTimeSeriesJson, writeTimeSeriesJsonl]) {
      for (const [p, d, message] of cases) {
        const e = await rejection(write(p as string, d as TimeSeriesData));
        expect(e).toBeInstanceOf(InvalidOptionError);
        expect((e as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
        expect(e.message).toMatch(new RegExp(`^${write.name}: ${message.source}`));
        if (typeof p === 'string' && p !== '') expect(existsSync(p)).toBe(false);
      }
    }
  });

  it('fails on an unwritable location with a FileError naming the path, and keeps the data', async () => {
    const d = data(3);
    for (const p of ['/sys/hostseries-test.json', join(dir, 'no', 'such', 'dir', 'x.json'), join(FIXTURE, 'x.json')]) {
      const e = await rejection(writeTimeSeriesJson(p, d));
      expect(e, p).toBeInstanceOf(FileError);
      expect((e as FileError).path).toBe(p);
      expect((e as FileError).code).toBe('ERR_FILE');
      expect(e.message).toMatch(/^.+: cannot write: (no permission to create a file in|the directory .* does not exist|.* is not a directory|the directory .* is on a read-only)/);
      expect(e.message).not.toMatch(/\.tmp/);
    }
    expect(d.countSamples()).toBe(6);
    const e = await rejection(readTimeSeriesJson(join(dir, 'missing.json')));
    expect(e).toBeInstanceOf(FileError);
    expect(e.message).toContain('ENOENT');
  });
});

describe('writers never replace what exists unless told to, and never a special file', () => {
  const EXISTS = (p: string): string => `${p}: already exists; pass \`overwrite: true\` to replace it`;
  const NEVER = (p: string, kind: string): string => `${p}: cannot write: it is ${kind}, which is never replaced`;
  let stream: string | undefined;
  async function jsonlStream(): Promise<string> {
    if (stream === undefined) {
      stream = tmp('source.jsonl');
      await writeTimeSeriesJsonl(stream, data(1));
    }
    return stream;
  }
  const WRITERS: [string, (p: string, o?: { overwrite?: boolean }) => Promise<unknown>][] = [
    ['writeTimeSeriesJson', (p, o) => writeTimeSeriesJson(p, data(1), o)],
    ['writeTimeSeriesJsonl', (p, o) => writeTimeSeriesJsonl(p, data(1), o)],
    ['convertJsonlToJson', async (p, o) => convertJsonlToJson(await jsonlStream(), p, o)],
  ];

  /** Every writer, with overwrite absent, false and true, is refused at `p` and leaves it as `intact` says. */
  async function expectNeverReplaced(p: string, kind: string, intact: () => void): Promise<void> {
    const before = readdirSync(dirname(p)).sort();
    for (const [name, write] of WRITERS) {
      for (const o of [undefined, { overwrite: false }, { overwrite: true }]) {
        const e = await rejection(write(p, o));
        const label = `${name} ${JSON.stringify(o)}`;
        expect(e, label).toBeInstanceOf(FileError);
        expect((e as FileError).code).toBe('ERR_FILE');
        expect((e as FileError).path).toBe(p);
        expect(e.message, label).toBe(NEVER(p, kind));
        intact();
      }
    }
    expect(readdirSync(dirname(p)).sort()).toEqual(before); // no temp file left
  }

  it.skipIf(!isRoot)('never replaces a device node (one made with mknod in a temp dir), even with overwrite', async () => {
    const p = join(mkdtempSync(join(dir, 'dev-')), 'mynull');
    expect(spawnSync('mknod', [p, 'c', '1', '3']).status).toBe(0);
    const { rdev } = lstatSync(p);
    await expectNeverReplaced(p, 'a character device', () => {
      expect(lstatSync(p).isCharacterDevice()).toBe(true);
      expect(lstatSync(p).rdev).toBe(rdev);
    });
  });

  it('never replaces a FIFO, even with overwrite (and never opens it: that would block)', async () => {
    const p = join(mkdtempSync(join(dir, 'fifo-')), 'pipe.json');
    expect(spawnSync('mkfifo', [p]).status).toBe(0);
    await expectNeverReplaced(p, 'a FIFO (named pipe)', () => expect(lstatSync(p).isFIFO()).toBe(true));
  });

  it('never replaces a symbolic link, even with overwrite, and leaves the file it points to untouched', async () => {
    const sub = mkdtempSync(join(dir, 'link-'));
    const target = join(sub, 'precious.json');
    writeFileSync(target, 'the only copy');
    const p = join(sub, 'link.json');
    symlinkSync(target, p);
    await expectNeverReplaced(p, 'a symbolic link', () => {
      expect(readlinkSync(p)).toBe(target);
      expect(readFileSync(target, 'utf8')).toBe('the only copy');
    });
    // A dangling link is a link all the same: it is not followed to create its target either.
    const dangling = join(sub, 'dangling.json');
    symlinkSync(join(sub, 'nowhere.json'), dangling);
    await expectNeverReplaced(dangling, 'a symbolic link', () => expect(existsSync(join(sub, 'nowhere.json'))).toBe(false));
  });

  it('never replaces a socket, even with overwrite', async () => {
    const p = join(mkdtempSync(join(dir, 'sock-')), 'listening.json');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(p, resolve));
    try {
      await expectNeverReplaced(p, 'a socket', () => expect(lstatSync(p).isSocket()).toBe(true));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never replaces a directory, even with overwrite', async () => {
    const p = join(mkdtempSync(join(dir, 'dir-')), 'out.json');
    mkdirSync(p);
    writeFileSync(join(p, 'inside'), 'kept');
    await expectNeverReplaced(p, 'a directory', () => expect(readdirSync(p)).toEqual(['inside']));
  });

  it('refuses an existing file without overwrite, and replaces it with overwrite: true', async () => {
    for (const [name, write] of WRITERS) {
      const sub = mkdtempSync(join(dir, 'exists-'));
      const p = join(sub, name.endsWith('Jsonl') ? 'out.jsonl' : 'out.json');
      writeFileSync(p, 'mine');
      for (const o of [undefined, {}, { overwrite: false }]) {
        const e = await rejection(write(p, o));
        expect(e, name).toBeInstanceOf(FileError);
        expect((e as FileError).path).toBe(p);
        expect(e.message).toBe(EXISTS(p));
        expect(readFileSync(p, 'utf8')).toBe('mine');
      }
      await write(p, { overwrite: true });
      const back = name.endsWith('Jsonl') ? (await readTimeSeriesJsonl(p)).data : await readTimeSeriesJson(p);
      expect(back).toEqual(data(1));
      expect(readdirSync(sub)).toEqual([basename(p)]);
    }
  });

  it('convertJsonlToJson refuses an existing JSON before it reads the stream', async () => {
    const p = tmp('exists.json');
    writeFileSync(p, 'mine');
    const e = await rejection(convertJsonlToJson(join(dir, 'no-such-stream.jsonl'), p));
    expect(e.message).toBe(EXISTS(p));
  });

  it('refuses a file that appears while it writes (published with link: race-free), and a link that appears with overwrite', async () => {
    const sub = mkdtempSync(join(dir, 'race-'));
    function* appearing(appear: () => void): Generator<string> {
      yield '{"a": 1';
      appear(); // after the check made before writing, before the file is published
      yield '}';
    }
    const p = join(sub, 'x.json');
    const e = await rejection(writeFileAtomic(p, appearing(() => writeFileSync(p, 'theirs'))));
    expect(e.message).toBe(EXISTS(p));
    expect(readFileSync(p, 'utf8')).toBe('theirs');
    expect(readdirSync(sub)).toEqual(['x.json']);

    const target = join(sub, 'target');
    writeFileSync(target, 'keep');
    const q = join(sub, 'y.json');
    const e2 = await rejection(writeFileAtomic(q, appearing(() => symlinkSync(target, q)), { overwrite: true }));
    expect(e2.message).toBe(NEVER(q, 'a symbolic link'));
    expect(readlinkSync(q)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('keep');
    expect(readdirSync(sub).sort()).toEqual(['target', 'x.json', 'y.json']);
  });

  it('names the path it was given, not its temp file, when the directory is missing or not a directory', async () => {
    const missing = join(dir, 'no-such-dir');
    for (const [parent, why] of [
      [missing, `the directory ${missing} does not exist`],
      [join(missing, 'deeper'), `the directory ${join(missing, 'deeper')} does not exist`],
      [FIXTURE, `${FIXTURE} is not a directory`],
      [join(FIXTURE, 'sub'), `the directory ${join(FIXTURE, 'sub')} does not exist (part of its path is not a directory)`],
    ]) {
      const p = join(parent, 'x.json');
      for (const [name, write] of WRITERS) {
        const e = await rejection(write(p));
        expect(e, name).toBeInstanceOf(FileError);
        expect((e as FileError).path).toBe(p);
        expect(e.message, name).toBe(`${p}: cannot write: ${why}`);
      }
    }
  });

  it('writes a file whose name is as long as the file system allows (the temp name stays short enough)', async () => {
    const sub = mkdtempSync(join(dir, 'long-'));
    const p = join(sub, 'x'.repeat(250) + '.json');
    await writeTimeSeriesJson(p, data(1));
    expect(await readTimeSeriesJson(p)).toEqual(data(1));
    expect(readdirSync(sub)).toEqual([basename(p)]);
  });

  it('takes overwrite as a boolean only (a truthy string replaces nothing)', async () => {
    const p = tmp('typed.json');
    writeFileSync(p, 'mine');
    for (const [name, write] of WRITERS) {
      const e = await rejection(write(p, { overwrite: 'yes' as unknown as boolean }));
      expect(e, name).toBeInstanceOf(InvalidOptionError);
      expect(e.message).toBe(`${name}: overwrite must be true or false, got string "yes"`);
      expect(readFileSync(p, 'utf8')).toBe('mine');
    }
  });
});

describe('what is not a recording', () => {
  /** `p` settled within `ms` (a read of a FIFO or /dev/zero used to hang). */
  async function soon<T>(p: Promise<T>, ms = 5000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)));
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('refuses a directory, a FIFO and a device at once with a FileError', async () => {
    const fifo = tmp('fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const cases: [string, RegExp][] = [[dir, /a directory/], [fifo, /a FIFO/], ['/dev/zero', /a character device/]];
    for (const [p, kind] of cases) {
      for (const read of [readRecording, readTimeSeriesJson, readTimeSeriesJsonl]) {
        const e = await soon(rejection(read(p)));
        expect(e, `${read.name}(${p})`).toBeInstanceOf(FileError);
        expect((e as FileError).path).toBe(p);
        expect(e.message).toMatch(kind);
        expect(e.message).toContain('not a recording file');
      }
    }
  });

  it('calls binary input and other text "not a recording", not truncated', async () => {
    const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256));
    const cases: [string, Buffer, RegExp][] = [
      ['binary', binary, /not a recording: it holds binary data/],
      ['binary.gz', gzipSync(binary), /not a recording: it holds binary data/],
      ['latin1', Buffer.from('{"\xe9t\xe9": 1}', 'latin1'), /not a recording: it holds binary data/],
      ['text', Buffer.from('hello world\n'), /not a recording: it does not start with a JSON object \(it starts with "hello world/],
      ['list', Buffer.from('[1, 2, 3]'), /not a recording: it does not start with a JSON object/],
      ['empty', Buffer.alloc(0), /not a recording: the file is empty/],
    ];
    for (const [name, bytes, message] of cases) {
      const p = tmp(name);
      writeFileSync(p, bytes);
      for (const read of [readRecording, readTimeSeriesJson]) {
        const e = await rejection(read(p));
        expect(e, `${read.name}(${name})`).toBeInstanceOf(InvalidDataError);
        expect(e.message).toMatch(message);
        expect(e.message).toContain(p);
        expect(e.message).not.toMatch(/truncated/);
      }
    }
  });

  it('names the file once in an error from inside a sample', async () => {
    const text = readFileSync(FIXTURE, 'utf8').replace('"load_1min": 1.0', '"load_1min": NaN'); // Python writes NaN
    expect(text).toContain('NaN');
    const p = tmp('nan.json');
    writeFileSync(p, text);
    for (const read of [readRecording, readTimeSeriesJson]) {
      const e = await rejection(read(p));
      expect(e).toBeInstanceOf(InvalidDataError);
      expect(e.message.split(`(in ${p})`).length - 1, e.message).toBe(1);
      expect(e.message).toMatch(/^samples_by_host\.node1\[\d\]: invalid JSON: /);
    }
  });

  it('flags a num_samples that disagrees with the samples', async () => {
    const d = data(2);
    d.numSamples = 7;
    const p = tmp('count.json');
    await writeTimeSeriesJson(p, d);
    const r = await readRecording(p);
    expect(r.data.numSamples).toBe(7); // as the file says (it is written back the same)
    expect(r.warnings).toEqual([`${p}: num_samples says 7, the file holds 4`]);
    d.numSamples = 4;
    await writeTimeSeriesJson(p, d, { overwrite: true });
    expect((await readRecording(p)).warnings).toEqual([]);
  });
});

describe('JSON Lines stream', () => {
  async function writeJsonl(p: string, d: TimeSeriesData, gzip?: boolean): Promise<JsonlSink> {
    const sink = new JsonlSink(p, { gzip, fsyncIntervalMs: 0 });
    await sink.open(META);
    // Interleaved, as a multi-host collector writes them.
    for (let i = 0; i < 5; i++) for (const [host, s] of d.samplesByHost) if (s[i]) sink.write(s[i], host);
    await sink.close({ endTime: d.endTime });
    return sink;
  }

  it('writes header, one line per sample and footer, and reads back the same data', async () => {
    for (const gzip of [false, true]) {
      const p = tmp(gzip ? 's.jsonl.gz' : 's.jsonl');
      const d = data();
      const sink = await writeJsonl(p, d, gzip);
      expect(sink.samplesWritten).toBe(10);
      expect(sink.unwritten).toEqual([]);
      const text = gzip ? gunzipSync(readFileSync(p)).toString() : readFileSync(p, 'utf8');
      const lines = text.split('\n');
      expect(lines.length).toBe(13); // header, 10 samples, footer, ''
      expect(JSON.parse(lines[0])).toMatchObject({ record: 'header', format: 'hostseries-jsonl', version: 1, collection_interval_seconds: 10 });
      expect(lines[0]).toContain('"collection_interval_seconds":10.0');
      expect(lines[2]).toMatch(/^\{"record":"sample","host":"node2","sample":\{"timestamp":"2026-01-24T12:00:00Z","timestamp_ns":1769256000123456768,/);
      expect(JSON.parse(lines[11])).toEqual({ record: 'footer', end_time: '2026-01-24T12:01:00Z', num_samples: 10, hosts_collected: ['node1', 'node2'] });
      const r = await readTimeSeriesJsonl(p);
      expect(r.complete).toBe(true);
      expect(r.skippedLines).toBe(0);
      expect(r.data).toEqual(d);
    }
  });

  it('converts to the mlpstorage JSON byte for byte', async () => {
    const fixture = await readTimeSeriesJson(FIXTURE);
    const p = tmp('fixture.jsonl.gz');
    const sink = new JsonlSink(p);
    await sink.open({ ...fixture, hostsRequested: fixture.hostsRequested });
    for (const [host, samples] of fixture.samplesByHost) for (const s of samples) sink.write(s, host);
    await sink.close({ endTime: fixture.endTime });
    const out = tmp('converted.json');
    const r = await convertJsonlToJson(p, out);
    expect(r.complete).toBe(true);
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);
  });

  it('tolerates a torn last line and a missing footer, and says so', async () => {
    const p = tmp('torn.jsonl');
    await writeJsonl(p, data());
    const text = readFileSync(p, 'utf8');
    const lines = text.split('\n');
    // Drop the footer and cut the last sample line in half: what a kill mid-write leaves.
    const torn = lines.slice(0, 10).join('\n') + '\n' + lines[10].slice(0, 900);
    writeFileSync(p, torn);
    const r = await readTimeSeriesJsonl(p);
    expect(r.skippedLines).toBe(1);
    expect(r.complete).toBe(false);
    expect(r.data.numSamples).toBe(9);
    expect(r.data.samplesByHost.get('node1')!.length).toBe(5);
    expect(r.data.samplesByHost.get('node2')!.map((s) => indexOf(s.timestampNs))).toEqual([0, 1, 2, 3]);
    expect(r.data.endTime).toBe('2026-01-24T12:00:04Z'); // from the last sample, without a footer
    expect(r.data.hostsCollected).toEqual(['node1', 'node2']);

    // No footer, nothing torn.
    writeFileSync(p, lines.slice(0, 11).join('\n') + '\n');
    const r2 = await readTimeSeriesJsonl(p);
    expect([r2.skippedLines, r2.complete, r2.data.numSamples]).toEqual([0, false, 10]);

    // Gzip cut anywhere: decodes what is there.
    const gz = tmp('torn.jsonl.gz');
    await writeJsonl(gz, data(), true);
    const z = readFileSync(gz);
    writeFileSync(gz, z.subarray(0, z.length - 200));
    const r3 = await readTimeSeriesJsonl(gz);
    expect(r3.complete).toBe(false);
    expect(r3.data.numSamples).toBeGreaterThan(0);
    expect(r3.data.numSamples).toBeLessThan(10);
  });

  it('skips corrupt lines in the middle, names their lines and flags num_samples; strict refuses them', async () => {
    const p = tmp('middle.jsonl');
    await writeJsonl(p, data());
    const lines = readFileSync(p, 'utf8').split('\n');
    lines[4] = lines[4].slice(0, 100); // a torn line that is not the last
    lines[6] = '\u0000\u0001 garbage \u00ff'; // binary garbage
    const rec = parseJson(lines[8]);
    edit(rec, ['sample', 'netdev', 1, 'rx_bytes'], -1); // valid JSON, invalid data
    lines[8] = stringifyJson(rec);
    writeFileSync(p, lines.join('\n'));
    for (const r of [await readTimeSeriesJsonl(p), await readRecording(p)]) {
      expect(r.skipped.map((x) => x.line)).toEqual([5, 7, 9]);
      expect(r.skipped[0].message).toMatch(/^invalid JSON: /);
      expect(r.skipped[2].message).toBe('sample.netdev[1].rx_bytes: expected a non-negative integer, got -1');
      expect([r.skippedLines, r.data.numSamples, r.data.countSamples(), r.complete]).toEqual([3, 7, 7, true]);
      expect(r.warnings).toEqual([`${p}: num_samples says 10, the file holds 7 (3 lines skipped)`]);
    }
    for (const read of [() => readTimeSeriesJsonl(p, { strict: true }), () => readRecording(p, { strict: true })]) {
      const e = await rejection(read());
      expect(e).toBeInstanceOf(InvalidDataError);
      expect(e.message).toMatch(new RegExp(`^${p} line 5: invalid JSON: `));
    }
    // The converter skips the same way, and refuses with strict.
    const out = tmp('middle.json');
    expect((await convertJsonlToJson(p, out)).skippedLines).toBe(3);
    expect((await readTimeSeriesJson(out)).numSamples).toBe(7);
    expect(await rejection(convertJsonlToJson(p, tmp('strict.json'), { strict: true }))).toBeInstanceOf(InvalidDataError);
    // A torn last line (what a kill leaves) is no corruption, even for strict.
    const torn = tmp('torn-strict.jsonl');
    const whole = readFileSync(p.replace('middle', 'middle'), 'utf8');
    writeFileSync(torn, whole.split('\n').slice(0, 3).join('\n') + '\n' + '{"record":"sample","host":"no');
    const r = await readTimeSeriesJsonl(torn, { strict: true });
    expect(r.skipped.map((x) => x.line)).toEqual([4]);
    expect(r.skipped[0].message).toMatch(/^invalid JSON/);
    expect([r.data.numSamples, r.complete]).toEqual([2, false]);
  });

  it('rejects streams without a header and empty files', async () => {
    const p = tmp('bad.jsonl');
    await writeJsonl(p, data());
    const lines = readFileSync(p, 'utf8').split('\n');
    writeFileSync(p, lines.slice(1).join('\n'));
    expect((await rejection(readTimeSeriesJsonl(p))).message).toContain('first line is not its header');
    writeFileSync(p, '');
    expect((await rejection(readTimeSeriesJsonl(p))).message).toContain('no header line');
    writeFileSync(p, ['{"record":"header"', ...lines.slice(1)].join('\n'));
    expect((await rejection(readTimeSeriesJsonl(p))).message).toMatch(new RegExp(`^${p} line 1: invalid JSON: .*not a hostseries-jsonl stream`));
  });

  it('never truncates an existing file (a crashed run\'s only copy) unless told to overwrite', async () => {
    const p = tmp('existing.jsonl');
    writeFileSync(p, 'a previous run\n');
    const sink = new JsonlSink(p);
    const events: Error[] = [];
    sink.on('error', (e) => events.push(e));
    const e = await rejection(sink.open(META));
    expect(e).toBeInstanceOf(FileError);
    expect(e.message).toMatch(new RegExp(`^${p}: cannot create: EEXIST`));
    expect(events).toEqual([e]);
    expect(sink.created).toBe(false);
    expect(readFileSync(p, 'utf8')).toBe('a previous run\n');

    const over = new JsonlSink(p, { overwrite: true });
    await over.open(META);
    expect(over.created).toBe(true);
    over.write(sample(0), 'node1');
    await over.close({ endTime: '2026-01-24T12:00:00Z' });
    expect((await readTimeSeriesJsonl(p)).data.countSamples()).toBe(1);
  });

  it('with overwrite, truncates a regular file only: never a symbolic link, device, FIFO or directory', async () => {
    const sub = mkdtempSync(join(dir, 'sink-special-'));
    const target = join(sub, 'precious.jsonl');
    writeFileSync(target, 'the only copy');
    const link = join(sub, 'link.jsonl');
    symlinkSync(target, link);
    const fifo = join(sub, 'fifo.jsonl');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const folder = join(sub, 'dir.jsonl');
    mkdirSync(folder);
    const cases: [string, string, (st: Stats) => boolean][] = [
      [link, 'a symbolic link', (st) => st.isSymbolicLink()],
      [fifo, 'a FIFO (named pipe)', (st) => st.isFIFO()],
      [folder, 'a directory', (st) => st.isDirectory()],
    ];
    const dev = join(sub, 'mynull');
    if (isRoot && spawnSync('mknod', [dev, 'c', '1', '3']).status === 0) cases.push([dev, 'a character device', (st) => st.isCharacterDevice()]);
    // Not opened: refused on its lstat (a device is never written, as it would be by a truncating open).
    if (existsSync('/dev/full')) cases.push(['/dev/full', 'a character device', (st) => st.isCharacterDevice()]);
    for (const [p, kind, still] of cases) {
      const sink = new JsonlSink(p, { overwrite: true });
      const events: Error[] = [];
      sink.on('error', (e) => events.push(e));
      const e = await rejection(sink.open(META));
      expect(e, kind).toBeInstanceOf(FileError);
      expect(e.message).toBe(`${p}: cannot write: it is ${kind}, which is never replaced`);
      expect(events).toEqual([e]);
      expect(sink.created).toBe(false);
      expect(still(lstatSync(p)), kind).toBe(true);
    }
    expect(readFileSync(target, 'utf8')).toBe('the only copy');
    expect(readdirSync(folder)).toEqual([]);
  });

  it('keeps the run\'s collection_method in the footer, which supersedes the header\'s', async () => {
    const p = tmp('method.jsonl');
    const sink = new JsonlSink(p);
    await sink.open({ ...META, collectionMethod: 'ssh' });
    sink.write(sample(0), 'node1');
    await sink.close({ endTime: '2026-01-24T12:01:00Z', collectionMethod: 'local' });
    expect(JSON.parse(readFileSync(p, 'utf8').trim().split('\n').pop()!)).toMatchObject({ record: 'footer', collection_method: 'local' });
    expect((await readTimeSeriesJsonl(p)).data.collectionMethod).toBe('local');
    // A stream cut before its footer keeps the header's.
    writeFileSync(p, readFileSync(p, 'utf8').trim().split('\n').slice(0, 2).join('\n') + '\n');
    expect((await readTimeSeriesJsonl(p)).data.collectionMethod).toBe('ssh');
    // writeTimeSeriesJsonl writes it too, so a JSON → JSONL → JSON trip keeps it.
    const d = TimeSeriesData.forHosts({ collectionIntervalSeconds: 1, startTime: '', endTime: '', hostsRequested: ['a', 'b'], samplesByHost: new Map([['a', [sample(0, 'a')]], ['b', [sample(0, 'b')]]]) });
    await writeTimeSeriesJsonl(p, d, { overwrite: true });
    expect((await readTimeSeriesJsonl(p)).data).toEqual(d);
  });

  it('writes a whole stream at once (writeTimeSeriesJsonl), plain and gzipped', async () => {
    const d = data();
    for (const name of ['whole.jsonl', 'whole.jsonl.gz']) {
      const p = tmp(name);
      await writeTimeSeriesJsonl(p, d);
      const r = await readTimeSeriesJsonl(p);
      expect(r.complete).toBe(true);
      expect(r.data).toEqual(d);
    }
  });

  it('checks its lifecycle', async () => {
    const sink = new JsonlSink(tmp('life.jsonl'));
    expect(() => sink.write(sample(0))).toThrow(LifecycleError);
    await sink.open(META);
    await expect(sink.open(META)).rejects.toThrow(LifecycleError);
    await sink.close({ endTime: '2026-01-24T12:00:00Z' });
    expect(() => sink.write(sample(0))).toThrow(LifecycleError);
  });

  it('on an unwritable location: FileError at open, samples kept', async () => {
    for (const p of ['/sys/hostseries-test.jsonl', join(dir, 'missing-dir', 'x.jsonl')]) {
      const sink = new JsonlSink(p);
      const e = await rejection(sink.open(META));
      expect(e).toBeInstanceOf(FileError);
      expect(e.message).toMatch(new RegExp(`^${p}: cannot create: E(ACCES|NOENT|PERM|ROFS)`));
      sink.write(sample(7), 'node1');
      expect(sink.unwritten).toEqual([{ host: 'node1', sample: sample(7) }]);
      await expect(sink.close({ endTime: '2026-01-24T12:00:00Z' })).rejects.toBeInstanceOf(FileError);
    }
  });
});

describe.skipIf(!existsSync(VITE_NODE))('writers in a child process', () => {
  interface FillReport {
    total: number;
    written: number;
    unwritten: number[];
    events: { name: string; path: string; cause: string }[];
    openError?: { name: string; path: string; cause: string };
    flushError?: { name: string; path: string; cause: string };
    closeError?: { name: string };
  }

  function runChild(args: string[], fileSizeBlocks?: number): Promise<string> {
    const cmd = [process.execPath, VITE_NODE, CHILD, ...args];
    const child = fileSizeBlocks === undefined
      ? spawn(cmd[0], cmd.slice(1), { cwd: ROOT })
      : spawn('sh', ['-c', `ulimit -f ${fileSizeBlocks} && exec "$0" "$@"`, ...cmd], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    return new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)))));
  }

  for (const gzip of [false, true]) {
    it(`a stream killed with SIGKILL mid-run reads back with every acknowledged sample (${gzip ? 'gzip' : 'plain'})`, async () => {
      const p = tmp(gzip ? 'killed.jsonl.gz' : 'killed.jsonl');
      const child = spawn(process.execPath, [VITE_NODE, CHILD, 'stream', p, gzip ? 'gzip' : 'plain'], { cwd: ROOT });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const acked = await new Promise<number>((resolve, reject) => {
        let last = -1;
        let buf = '';
        child.stdout.on('data', (c: Buffer) => {
          buf += c.toString();
          for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
            last = Number(buf.slice(4, nl));
            buf = buf.slice(nl + 1);
          }
          if (last >= 40) {
            child.kill('SIGKILL');
            resolve(last);
          }
        });
        child.on('close', (code, signal) => signal !== 'SIGKILL' && reject(new Error(`child ended early (${code}): ${err}`)));
      });
      await new Promise((r) => child.on('close', r));
      const r = await readTimeSeriesJsonl(p);
      expect(r.complete).toBe(false);
      expect(r.skippedLines).toBeLessThanOrEqual(1);
      const got = r.data.samplesByHost.get('node1')!;
      expect(got.length).toBeGreaterThanOrEqual(acked + 1);
      got.forEach((s, i) => expect(s).toEqual(sample(i)));
    }, 60_000);
  }

  for (const gzip of [false, true]) {
    it(`a disk that fills mid-run (ulimit -f) gives FileError events and loses no sample (${gzip ? 'gzip' : 'plain'})`, async () => {
      const p = tmp(gzip ? 'full.jsonl.gz' : 'full.jsonl');
      const total = gzip ? 3000 : 400;
      const report = JSON.parse(await runChild(['fill-jsonl', p, gzip ? 'gzip' : 'plain', String(total)], 64)) as FillReport;
      expect(report.written).toBeGreaterThan(0);
      expect(report.written).toBeLessThan(total);
      // Every sample is on disk or still held by the sink, in order, and every later one is held too.
      expect(report.unwritten).toEqual(Array.from({ length: total - report.written }, (_, i) => report.written + i));
      expect(report.events.length).toBe(1);
      expect(report.events[0]).toMatchObject({ name: 'FileError', path: p, cause: 'EFBIG' });
      expect(report.flushError).toEqual(report.events[0]);
      expect(report.closeError).toMatchObject({ name: 'FileError' });
      // The batch the failure cut short is cut off the file: it holds exactly the samples written,
      // every line whole (no torn line, no sample both on disk and in memory).
      const r = await readTimeSeriesJsonl(p);
      expect(r.skippedLines).toBe(0);
      const got = r.data.samplesByHost.get('node1')!;
      expect(got.length).toBe(report.written);
      got.forEach((s, i) => expect(s).toEqual(sample(i)));
    }, 60_000);
  }

  it('a disk full from the start: FileError at open, as an event and a rejection, and no sample lost', async () => {
    const p = tmp('full-at-open.jsonl');
    const report = JSON.parse(await runChild(['fill-jsonl', p, 'plain', '3'], 0)) as FillReport;
    expect(report.openError).toMatchObject({ name: 'FileError', path: p, cause: 'EFBIG' });
    expect(report.events).toEqual([report.openError]);
    expect(report.flushError).toEqual(report.openError);
    expect(report.closeError).toEqual(report.openError);
    expect(report.written).toBe(0);
    expect(report.unwritten).toEqual([0, 1, 2]);
  }, 60_000);

  it('a JSON write that hits the file size limit leaves the old file and no temp file', async () => {
    const sub = mkdtempSync(join(dir, 'limit-'));
    const p = join(sub, 'out.json');
    writeFileSync(p, 'previous run');
    const report = JSON.parse(await runChild(['fill-json', p, '400'], 64)) as { error: { name: string; path: string; cause: string }; stillHeld: number };
    expect(report.error).toMatchObject({ name: 'FileError', path: p, cause: 'EFBIG' });
    expect(report.stillHeld).toBe(400);
    expect(readFileSync(p, 'utf8')).toBe('previous run');
    expect(readdirSync(sub)).toEqual(['out.json']);
  }, 60_000);
});
