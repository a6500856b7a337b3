/**
 * `hostseries compare`: a real run compared with itself is 0 % everywhere; two hosts of one file
 * give the change of their averages; runs with no metric in common are refused, saying why.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTimeSeriesJson } from '../lib/files/json-file.js';
import { TimeSeriesData } from '../lib/models/data.js';
import { TimeSeriesSample } from '../lib/models/sample.js';
import { computeRates } from '../lib/rates/compute.js';
import { cliWorkdir, cli as runCli, ENV, type Result } from './support/cli.js';
import { hostSamples, makeRecording } from './support/recording.js';

let dir: string;
cliWorkdir('hs-compare-', (d) => (dir = d));
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Result => runCli(args, { cwd: dir, env: { ...ENV, ...env } });

interface CompareJson { pairs: { a: { name: string }; b: { name: string }; metrics: { key: string; a: { count: number; avg: number }; b: { count: number; avg: number }; change_pct: number | null }[]; timeline: unknown[] }[] }

describe('compare', () => {
  it('a run compared with itself: 0 % on every metric, text at 80 and 200 columns', () => {
    const file = makeRecording(dir);
    const j = JSON.parse(cli(['compare', file, file, '--json']).stdout) as CompareJson;
    expect(j.pairs).toHaveLength(1);
    const withData = j.pairs[0].metrics.filter((m) => m.a.count > 0);
    expect(withData.length).toBeGreaterThanOrEqual(6);
    for (const m of withData) expect(m.change_pct, m.key).toBe(0);
    // The command runs at least its `sleep 0.6`: three 0.2 s rows or more, each side equal.
    expect(j.pairs[0].timeline.length).toBeGreaterThanOrEqual(3);
    for (const row of j.pairs[0].timeline as { a: unknown; b: unknown }[]) expect(row.a).toEqual(row.b);
    for (const cols of ['80', '200']) {
      const r = cli(['compare', file, file], { COLUMNS: cols });
      expect(r.status, r.stderr).toBe(0);
      for (const l of r.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(Number(cols));
      expect(r.stdout).toMatch(/disk write MB\/s\s+[\d.,]+\s+[\d.,]+\s+0\.0%/);
      expect(r.stdout).toMatch(/CPU busy %\s+[\d.,]+\s+[\d.,]+\s+0\.0%/);
    }
  });

  it('two hosts of one recording (--host twice): the change of the averages, as computeRates gives them', async () => {
    const file = makeRecording(dir);
    const { samples } = await hostSamples(file);
    // Host b: the same samples with less memory available (memory used % goes up).
    const b = samples.map((s) => {
      const d = s.toDict();
      d.meminfo = { ...d.meminfo!, MemAvailable: Math.floor(Number(d.meminfo!.MemAvailable) / 2) };
      return TimeSeriesSample.fromDict(d);
    });
    const two = join(dir, 'two.json');
    await writeTimeSeriesJson(two, TimeSeriesData.forHosts({
      collectionIntervalSeconds: 0.2, startTime: samples[0].timestamp, endTime: samples[samples.length - 1].timestamp,
      hostsRequested: ['a', 'b'], samplesByHost: new Map([['a', samples], ['b', b]]),
    }), { overwrite: true });
    const r = cli(['compare', two, '--host', 'a', '--host', 'b', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const m = (JSON.parse(r.stdout) as CompareJson).pairs[0].metrics;
    const avg = (xs: TimeSeriesSample[]): number => {
      const v = xs.slice(1).map((s, i) => computeRates(xs[i], s).mem.used_pct!);
      return v.reduce((x, y) => x + y, 0) / v.length;
    };
    const mem = m.find((x) => x.key === 'mem_used_pct')!;
    expect(mem.a.avg).toBeCloseTo(avg(samples), 10);
    expect(mem.b.avg).toBeCloseTo(avg(b), 10);
    expect(mem.change_pct!).toBeCloseTo(((avg(b) - avg(samples)) / avg(samples)) * 100, 8);
    expect(mem.change_pct!).toBeGreaterThan(0);
    for (const x of m.filter((y) => y.key !== 'mem_used_pct' && y.a.count > 0)) expect(x.change_pct).toBe(0);
  });

  it('no metric in common: refused, naming both sides and what each has; usage errors are exit 2', () => {
    const m = cli(['record', '-q', '-i', '0.2', '-d', '0.6', '-m', 'meminfo', '-o', 'mem.json']);
    expect(m.status, m.stderr).toBe(0);
    const d = cli(['record', '-q', '-i', '0.2', '-d', '0.6', '-m', 'diskstats', '-o', 'disk.json']);
    expect(d.status, d.stderr).toBe(0);
    const r = cli(['compare', 'mem.json', 'disk.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('nothing to compare: mem.json');
    expect(r.stderr).toContain('share no metric');
    expect(r.stderr).toContain('memory used %');
    expect(r.stderr).toContain('disk IOPS');
    const one = cli(['compare', 'mem.json']);
    expect(one.status).toBe(2);
    expect(one.stderr).toContain('two recordings, or one and two --host');
    const badHost = cli(['compare', 'mem.json', '--host', 'x', '--host', 'y']);
    expect(badHost.status).toBe(2);
    expect(badHost.stderr).toContain('--host "x"');
  });
});
