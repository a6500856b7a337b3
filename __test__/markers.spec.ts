/**
 * Markers: `collector.mark(label)`, kept in TimeSeriesData (`markers`) and in the JSON Lines
 * stream (`{"marker": {...}}` lines); `record` marks the command's start and end and takes
 * `mark LABEL` lines on HOSTSERIES_MARK_FD; every view cuts to `--between A B`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlSink, MultiHostTimeSeriesCollector, TimeSeriesCollector, readRecording, writeTimeSeriesJson } from '../lib/index.js';
import { TimeSeriesData } from '../lib/models/data.js';
import { readTimeSeriesJsonl } from '../lib/files/jsonl-read.js';
import { dataSamples } from '../lib/views/intervals.js';
import { cliWorkdir, cli as runCli, start, ENV, type Result } from './support/cli.js';

let dir: string;
cliWorkdir('hs-markers-', (d) => (dir = d));
const cli = (args: string[]): Result => runCli(args, { cwd: dir, timeoutMs: 30_000 });
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('collector.mark()', () => {
  it('keeps markers in time order in toTimeSeriesData and in the stream; both read back the same', async () => {
    const stream = join(dir, 'lib.jsonl');
    const c = new TimeSeriesCollector({ intervalSeconds: 0.05, sink: new JsonlSink(stream) });
    await c.start();
    const a = c.mark('warmup done');
    await sleep(120);
    const b = c.mark('epoch 1');
    await sleep(60);
    await c.stop();
    expect(a.timestamp).toMatch(ISO_MS);
    expect(a.timestamp_ns).toBeLessThan(b.timestamp_ns);
    expect(new Date(a.timestamp).getTime()).toBe(Math.floor(a.timestamp_ns / 1e6));
    const data = c.toTimeSeriesData();
    expect(data.markers).toEqual([a, b]);
    // The stream: marker lines before the footer; the reader collects them.
    const lines = readFileSync(stream, 'utf8').trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('{"marker":'))).toHaveLength(2);
    expect(lines[lines.length - 1]).toMatch(/^\{"record":"footer"/);
    const back = await readTimeSeriesJsonl(stream);
    expect(back.data.markers).toEqual([a, b]);
    expect(back.warnings).toEqual([]);
    // The JSON file: a top-level `markers` after mlpstorage's keys; read back the same.
    const json = join(dir, 'lib.json');
    await writeTimeSeriesJson(json, data);
    const text = readFileSync(json, 'utf8');
    expect(text.indexOf('"markers"')).toBeGreaterThan(text.indexOf('"hosts_collected"'));
    expect((await readRecording(json)).data.markers).toEqual([a, b]);
    // Readers that ignore unknown keys (mlpstorage's) are unaffected: a file without markers has none.
    const d = JSON.parse(text) as Record<string, unknown>;
    delete d.markers;
    expect(TimeSeriesData.fromDict(d).markers).toEqual([]);
  });

  it('the multi-host collector marks the run or one host; another host is refused', async () => {
    const c = new MultiHostTimeSeriesCollector({ hosts: 'localhost', intervalSeconds: 0.1 });
    await c.start();
    const all = c.mark('phase 1');
    const one = c.mark('phase 2', 'localhost');
    expect(() => c.mark('x', 'elsewhere')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    await sleep(150);
    await c.stop();
    expect(one.host).toBe('localhost');
    expect(all.host).toBeUndefined();
    expect(c.toTimeSeriesData().markers).toEqual([all, one]);
  });

  it('a bad label is ERR_INVALID_OPTION; a bad marker in a file names its field', () => {
    const c = new TimeSeriesCollector({ intervalSeconds: 1 });
    for (const bad of ['', '  ', 'two\nlines', 'x'.repeat(201), 7 as unknown as string]) {
      expect(() => c.mark(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    }
    const d = { collection_interval_seconds: 1, start_time: '', end_time: '', num_samples: 0, samples_by_host: {}, collection_method: 'local', hosts_requested: [], hosts_collected: [], markers: [{ label: 3, timestamp: '2025-01-01T00:00:00.000Z', timestamp_ns: 1 }] };
    expect(() => TimeSeriesData.fromDict(d)).toThrow(/markers\[0\]\.label/);
  });
});

describe('record: the command\'s start and end, HOSTSERIES_MARK_FD, and --between in every view', () => {
  const script = 'sleep 0.5; echo "mark io begin" >&$HOSTSERIES_MARK_FD; dd if=/dev/zero of=io.bin bs=1M count=30 oflag=direct 2>/dev/null; sleep 0.45; echo "mark io end" >&$HOSTSERIES_MARK_FD; echo "oops" >&$HOSTSERIES_MARK_FD; sleep 0.5; rm -f io.bin';

  it('start, the command\'s marks and end, in order; a bad line is said and skipped', async () => {
    const r = cli(['record', '-q', '-i', '0.1', '-o', 'm.json', '--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('HOSTSERIES_MARK_FD: "oops": expected "mark LABEL"; line skipped');
    const rec = await readRecording(join(dir, 'm.json'));
    expect(rec.data.markers.map((m) => m.label)).toEqual(['start', 'io begin', 'io end', 'end']);
    const ns = rec.data.markers.map((m) => m.timestamp_ns);
    expect([...ns].sort((x, y) => x - y)).toEqual(ns);
    const samples = dataSamples([...rec.data.samplesByHost.values()][0]).samples;
    // The command ran inside the recording.
    expect(ns[0]).toBeGreaterThanOrEqual(samples[0].timestampNs! - 1e6);
    expect(ns[3]).toBeLessThanOrEqual(samples[samples.length - 1].timestampNs! + 1e6);
    expect(ns[2] - ns[1]).toBeGreaterThan(0.4e9);
  });

  it('a recording killed with SIGKILL keeps the markers taken before: they are in its stream, in order with the samples', async () => {
    const r = start(['record', '-q', '-i', '0.1', '-o', 'killed.json', '--', 'sh', '-c', 'sleep 0.3; echo "mark phase 2" >&$HOSTSERIES_MARK_FD; sleep 30'],
      { cwd: dir, env: ENV });
    const stream = join(dir, 'killed.partial.jsonl');
    const marked = (): boolean => {
      try {
        return readFileSync(stream, 'utf8').includes('"label":"phase 2"');
      } catch {
        return false;
      }
    };
    for (const deadline = Date.now() + 15_000; !marked() && Date.now() < deadline;) await sleep(50);
    await sleep(250);
    r.child.kill('SIGKILL');
    await r.done;
    const back = await readTimeSeriesJsonl(stream);
    expect(back.complete).toBe(false);
    expect(back.data.markers.map((m) => m.label)).toEqual(['start', 'phase 2']);
    // In order with the samples: each marker line comes after the samples taken before it.
    const lines = readFileSync(stream, 'utf8').trimEnd().split('\n');
    const at = (label: string): number => lines.findIndex((l) => l.includes(`"label":"${label}"`));
    const sampleNs = (l: string): number => Number(/"timestamp_ns":(\d+)/.exec(l)![1]);
    const phase2 = back.data.markers[1].timestamp_ns;
    expect(lines.slice(at('phase 2') + 1).filter((l) => l.includes('"record":"sample"')).every((l) => sampleNs(l) >= phase2 - 2e8)).toBe(true);
    expect(lines.slice(0, at('phase 2')).filter((l) => l.includes('"record":"sample"')).length).toBeGreaterThan(1);
  });

  it('show, export, compare and summary --between cut to the samples between the two markers', async () => {
    const rec = await readRecording(join(dir, 'm.json'));
    const [, begin, end] = rec.data.markers;
    const samples = dataSamples([...rec.data.samplesByHost.values()][0]).samples;
    const inside = samples.filter((s) => s.timestampNs! >= begin.timestamp_ns && s.timestampNs! <= end.timestamp_ns);
    expect(inside.length).toBeGreaterThanOrEqual(3);
    const show = JSON.parse(cli(['show', 'm.json', '--cpu', '--json', '--between', 'io begin', 'io end']).stdout) as { rows: { timestamp_ns: number }[]; hosts: { markers: unknown[] }[] };
    expect(show.rows.map((x) => x.timestamp_ns)).toEqual(inside.slice(1).map((s) => s.timestampNs));
    expect(show.hosts[0].markers).toHaveLength(4);
    // The labels before the file, as users type them.
    const before = cli(['show', '--between', 'io begin', 'io end', 'm.json', '--cpu', '--json']);
    expect(before.status, before.stderr).toBe(0);
    const exp = cli(['export', 'm.json', '-f', 'jsonl', '--wide', '--between', 'io begin', 'io end']);
    expect(exp.status, exp.stderr).toBe(0);
    expect(exp.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { timestamp_ns: number }).timestamp_ns)).toEqual(inside.map((s) => s.timestampNs));
    const cmp = cli(['compare', 'm.json', 'm.json', '--between', 'io begin', 'io end', '--json']);
    expect(cmp.status, cmp.stderr).toBe(0);
    const writes = (JSON.parse(cmp.stdout) as { pairs: { metrics: { key: string; a: { count: number } }[] }[] }).pairs[0].metrics.find((m) => m.key === 'disk_write_mb_s')!;
    expect(writes.a.count).toBe(inside.length - 1);
    const sum = JSON.parse(cli(['summary', 'm.json', '--json', '--between', 'io begin', 'io end']).stdout) as { hosts: { samples: number }[] };
    expect(sum.hosts[0].samples).toBe(inside.length);
    // Text: the markers are listed under the host.
    expect(cli(['show', 'm.json', '--cpu']).stdout).toMatch(/^markers: start \d\d:\d\d:\d\d\.\d{3}, io begin .*, io end .*, end /m);
  });

  it('an unknown label is a usage error naming it and the labels there are', () => {
    const r = cli(['show', 'm.json', '--between', 'io begin', 'nosuch']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no marker "nosuch" at or after "io begin"');
    expect(r.stderr).toContain('"start", "io begin", "io end", "end"');
    const one = cli(['show', 'm.json', '--between', 'start']);
    expect(one.status).toBe(2);
  });
});
