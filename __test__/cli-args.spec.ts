/**
 * The CLI's argument rules, run as users run it: one interval rule with the library, values
 * that are no number refused, a missing --identity key an error before anything starts, --strict
 * for corrupt JSON Lines streams, a bad hostfile never echoed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS } from '../lib/collector/options.js';
import { cliWorkdir, cli as run, type Result } from './support/cli.js';

let dir: string;
const p = (name: string): string => join(dir, name);
const cli = (args: string[]): Result => run(args, { cwd: dir });

cliWorkdir('hs-cli-args-', (d) => (dir = d));

/** Exit 2, one line naming the problem, then the usage. */
function expectUsage(r: Result, message: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^Usage: hostseries /);
}

describe('-i and -d', () => {
  it('the interval is the library\'s rule: its minimum works, past its bounds is refused with the range', () => {
    const ok = cli(['record', '-q', '-n', '2', '-i', String(MIN_INTERVAL_SECONDS), '-o', p('min.json')]);
    expect(ok.status, ok.stderr).toBe(0);
    for (const v of ['0.005', '1e9', String(MAX_INTERVAL_SECONDS + 1)]) {
      expectUsage(cli(['record', '-n', '1', '-i', v]), new RegExp(`--interval.*'${v.replace('.', '\\.')}' is invalid\\. Must be from ${MIN_INTERVAL_SECONDS} s to ${MAX_INTERVAL_SECONDS} s`));
    }
  });

  it('remote hosts take the multi-host collector\'s minimum, said as -i; nothing is left behind', () => {
    const r = cli(['record', '-n', '1', '-i', String(MIN_INTERVAL_SECONDS), '-H', 'localhost,node-unreachable.invalid', '-o', p('remote-min.json')]);
    expectUsage(r, /^hostseries: -i\/--interval must be a number from 0\.05 to 86400, got 0\.01 \(with remote hosts\)$/);
    expect(() => readFileSync(p('remote-min.partial.jsonl'))).toThrow();
  });

  it.each(['NaN', '-1', '1e400', 'Infinity', '', '1x'])('%j is no duration (-i, -d, --connect-timeout)', (v) => {
    for (const opt of ['-i', '-d', '--connect-timeout']) {
      expectUsage(cli(['record', '-n', '1', opt, v]), /is invalid\. Expected a duration in seconds/);
    }
  });

  it('--connect-timeout past what a timer can wait is refused, not turned into 1 ms', () => {
    expectUsage(cli(['record', '-n', '1', '--connect-timeout', '1e9']), /--connect-timeout.*Must be from 0\.1 s to 86400 s/);
  });
});

describe('--identity', () => {
  it('a key file that is not there: exit 2 before anything starts (the command never runs)', () => {
    const r = cli(['record', '-n', '1', '-H', 'node-unreachable.invalid', '--identity', p('no-such-key'), '-o', p('id.json'), '--', 'touch', p('id.marker')]);
    expectUsage(r, new RegExp(`--identity.*No such file: ${p('no-such-key')}`));
    expect(() => readFileSync(p('id.marker'))).toThrow();
    expect(() => readFileSync(p('id.partial.jsonl'))).toThrow();
  });
});

describe('hosts', () => {
  it('node[01-02]:8:9 is a slot-count error, not an IPv6 one', () => {
    expectUsage(cli(['hosts', 'parse', 'node[01-02]:8:9']), /more than one ':' after the host: host:N takes a single slot count/);
  });

  it('a binary hostfile: its line named, its bytes never echoed', () => {
    writeFileSync(p('bin.hosts'), Buffer.from('node01\n\x00\x01\x1b]0;pwned\x07\x1b[31mred\n'));
    const r = cli(['hosts', 'parse', '--hostfile', p('bin.hosts')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`hostseries: ${p('bin.hosts')}: not a hostfile: line 2 holds binary bytes (a hostfile is text: [user@]host [slots=N] per line)\n`);
  });
});

describe('--strict (summary, convert): a corrupt line in a .jsonl', () => {
  /** A finished stream with its third line cut short (corrupt, with lines after it). */
  function corruptStream(): string {
    const r = cli(['record', '-q', '-n', '4', '-i', '0.1', '-o', p('whole.jsonl')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(p('whole.jsonl'), 'utf8').split('\n');
    lines[2] = lines[2].slice(0, 40);
    writeFileSync(p('corrupt.jsonl'), lines.join('\n'));
    return p('corrupt.jsonl');
  }

  it('by default skipped, named by its line (stderr); --strict refuses, exit 1', () => {
    const file = corruptStream();
    const s = cli(['summary', file]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toMatch(new RegExp(`^hostseries: warning: ${file} line 3 skipped: invalid JSON`, 'm'));
    expect(s.stdout).toMatch(/3 samples/);
    const j = cli(['summary', '--json', file]);
    expect(JSON.parse(j.stdout)).toMatchObject({ skipped_lines: 1, skipped: [{ line: 3 }] });

    const strict = cli(['summary', '--strict', file]);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toMatch(new RegExp(`^hostseries: ${file} line 3: invalid JSON`));

    const c = cli(['convert', file, '-o', p('corrupt.json')]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(new RegExp(`warning: ${file} line 3 skipped`));
    const cs = cli(['convert', '--strict', file, '-o', p('corrupt-strict.json')]);
    expect(cs.status).toBe(1);
    expect(cs.stderr).toMatch(/line 3: invalid JSON/);
    expect(() => readFileSync(p('corrupt-strict.json'))).toThrow();
  });
});

describe('summary: what the totals leave out, and samples out of time order', () => {
  it('lists loop devices as not in totals and warns about out-of-order samples', async () => {
    const { TimeSeriesData, TimeSeriesSample } = await import('../lib/index.js');
    const { writeTimeSeriesJson } = await import('../lib/files/json-file.js');
    const disk = (name: string, sectors: number) => ({
      device_name: name, reads_completed: 0, reads_merged: 0, sectors_read: 0, time_reading_ms: 0, writes_completed: sectors / 8,
      writes_merged: 0, sectors_written: sectors, time_writing_ms: 0, ios_in_progress: 0, time_doing_ios_ms: 0, weighted_time_doing_ios_ms: 0,
    });
    // The loop device's writes are also sda's: 2048 sectors a second on each.
    const at = (sec: number) => TimeSeriesSample.fromDict({
      timestamp: new Date(sec * 1000).toISOString().slice(0, 19) + 'Z', timestamp_ns: sec * 1e9, hostname: 'h',
      diskstats: [disk('sda', sec * 2048), disk('loop0', sec * 2048)],
    });
    const samples = [at(100), at(102), at(101), at(103)];
    await writeTimeSeriesJson(p('ooo.json'), new TimeSeriesData({
      collectionIntervalSeconds: 1, startTime: samples[0].timestamp, endTime: samples[3].timestamp,
      samplesByHost: new Map([['h', samples]]), hostsRequested: ['h'],
    }));
    const s = cli(['summary', p('ooo.json')]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/warning: h: 1 sample is out of time order in the file \(summarised in time order\)/);
    expect(s.stdout).toMatch(/no gaps/);
    expect(s.stdout).toMatch(/not in totals.*loop0/);
    const j = JSON.parse(cli(['summary', '--json', p('ooo.json')]).stdout) as { hosts: Array<{ disks: string[]; not_in_totals: string[]; out_of_order: number; metrics: { disk_write_mb_s: { avg: number } } }> };
    expect(j.hosts[0]).toMatchObject({ disks: ['sda'], not_in_totals: ['loop0'], out_of_order: 1 });
    // 2048 sectors/s = 1 MiB/s: sda alone, not sda + loop0.
    expect(j.hosts[0].metrics.disk_write_mb_s.avg).toBeCloseTo(1, 5);
  });
});
