/**
 * The JSON Lines sample line formatted by the core (crates/core/src/jsonl) is, byte for byte,
 * what the JS writer (`sampleLine` over the sample decode.ts makes of the same native values)
 * writes today: on real samples of this host and on edge cases reached through the parsers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import type { SampleLines, SampleLinesOptions } from '../binding.js';
import { sampleLine } from '../lib/files/jsonl-format.js';
import { parseJsonExact } from '../lib/json/tokenizer.js';
import { TimeSeriesSample } from '../lib/models/sample.js';
import { binding } from '../lib/native/binding.js';
import { decodeBatch } from '../lib/native/decode.js';

function formatted(options: SampleLinesOptions): SampleLines {
  return binding().formatSampleLines(options);
}

/** Each native line equals the JS writer's for the same sample; returns the lines. */
function expectSameAsJs(r: SampleLines, host: string, hostname: string): string[] {
  const { samples } = decodeBatch(r.batch, hostname);
  expect(r.lines).toHaveLength(samples.length);
  return r.lines.map((line, i) => {
    const js = sampleLine(host, TimeSeriesSample.fromTrustedDict(samples[i]));
    expect(line.every((b) => b < 0x80), 'ASCII only').toBe(true);
    expect(line.toString('latin1')).toBe(js);
    expect(line.at(-1)).toBe(0x0a);
    expect(parseJsonExact(line.toString('latin1').slice(0, -1))).toMatchObject({ record: 'sample', host });
    return js;
  });
}

/** A frame of text sections, in the order of `metrics`. */
function frames(metrics: string[], ...texts: (string | null)[][]): Pick<SampleLinesOptions, 'metrics' | 'frames'> {
  return { metrics, frames: texts.map((f) => f.map((t) => (t === null ? null : Buffer.from(t, 'utf8')))) };
}

const DISK = (name: string, first = '1'): string => `   8       0 ${name} ${first} 2 3 4 5 6 7 8 9 10 11\n`;

describe('native sample line (real samples of this host)', () => {
  it('equals the JS writer on consecutive samples with every section', () => {
    const r = formatted({ host: 'node1', hostname: 'node1.example', count: 5 });
    const lines = expectSameAsJs(r, 'node1', 'node1.example');
    const sample = (JSON.parse(lines[0]) as { sample: Record<string, unknown> }).sample;
    expect(Object.keys(sample)).toEqual(['timestamp', 'timestamp_ns', 'hostname', 'diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat']);
  });

  it('equals the JS writer for each section alone and for none', () => {
    for (const m of ['diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat']) {
      expectSameAsJs(formatted({ host: 'h', hostname: 'h', metrics: [m], count: 2 }), 'h', 'h');
    }
    const none = expectSameAsJs(formatted({ host: 'h', hostname: 'h', metrics: [] }), 'h', 'h');
    expect(none[0]).toMatch(/^\{"record":"sample","host":"h","sample":\{"timestamp":"[^"]+","timestamp_ns":\d+,"hostname":"h"\}\}\n$/);
  });

  it('quotes a host and hostname that need escapes as Python does', () => {
    const host = 'nöde "1"\\\t\u007f😀';
    const lines = expectSameAsJs(formatted({ host, hostname: host, metrics: ['loadavg'] }), host, host);
    expect(lines[0]).toContain('"host":"n\\u00f6de \\"1\\"\\\\\\t\\u007f\\ud83d\\ude00"');
  });

  it('writes the errors of files that cannot be read, beside the sections that could', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostseries-jsonl-'));
    try {
      writeFileSync(join(dir, 'loadavg'), '0.00 1.50 2.25 3/456 789\n');
      const r = formatted({ host: 'h', hostname: 'h', procPath: dir, metrics: ['meminfo', 'loadavg', 'stat'] });
      const [line] = expectSameAsJs(r, 'h', 'h');
      expect(line).toContain('"loadavg":{"load_1min":0.0,"load_5min":1.5,"load_15min":2.25,"running_processes":3,"total_processes":456}');
      expect(line).toMatch(/,"errors":\{"meminfo":"[^"]*meminfo[^"]*","stat":"[^"]*stat[^"]*"\}\}\}\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('native sample line (edge cases through the parsers)', () => {
  it('keeps counters above 2^53 exact, up to 2^64 - 1', () => {
    const big = '18446744073709551615';
    const r = formatted({
      host: 'h', hostname: 'h',
      ...frames(['diskstats', 'vmstat', 'meminfo', 'netdev', 'stat'], [
        `   8 0 sda ${big} 9007199254740993 9007199254740992 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n`,
        `pgpgin ${big}\npgpgout 9007199254740993\n`,
        `MemTotal: ${big} kB\n`,
        `Inter-|\n face |\n  eth0: ${big} 2 3 4 5 6 7 8 9007199254740993 10 11 12 13 14 15 16\n`,
        `cpu  ${big} 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr ${big} 0\nctxt 9007199254740993\nbtime 1\nprocesses 2\nprocs_running 3\nprocs_blocked 4\n`,
      ]),
    });
    const [line] = expectSameAsJs(r, 'h', 'h');
    expect(line).toContain(`"reads_completed":${big},"reads_merged":9007199254740993,`);
    expect(line).toContain(`"pgpgin":${big},"pgpgout":9007199254740993}`);
    expect(line).toContain(`"intr":${big},"ctxt":9007199254740993,`);
  });

  it('writes loadavg floats as Python repr and big process counts as JS numbers', () => {
    const r = formatted({
      host: 'h', hostname: 'h',
      ...frames(['loadavg'],
        ['1e-7 -0.0 1e300 9007199254740993/18446744073709551615 1\n'],
        ['0.0001 0.00001 12345678901234567 1/2 3\n'],
        ['0.52 1.00 0.1 0/0 0\n'],
        ['garbage\n']),
    });
    const lines = expectSameAsJs(r, 'h', 'h');
    expect(lines[0]).toContain('"load_1min":1e-07,"load_5min":-0.0,"load_15min":1e+300,"running_processes":9007199254740992,"total_processes":18446744073709551616}');
    expect(lines[1]).toContain('"load_1min":0.0001,"load_5min":1e-05,"load_15min":1.2345678901234568e+16,');
    expect(lines[2]).toContain('"load_1min":0.52,"load_5min":1.0,"load_15min":0.1,');
  });

  it('quotes device, interface and key names that need escapes', () => {
    const r = formatted({
      host: 'h', hostname: 'h',
      ...frames(['diskstats', 'vmstat', 'meminfo', 'netdev'], [
        DISK('sd"a') + DISK('dév\\x') + DISK('\u007f\u0001') + DISK('😀'),
        'ké"y 1\nback\\slash 2\n',
        'Mém"Total: 5 kB\nQuote\\: 6 kB\n',
        'Inter-|\n face |\n  ü"th0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n',
      ]),
    });
    const [line] = expectSameAsJs(r, 'h', 'h');
    expect(line).toContain('"device_name":"sd\\"a"');
    expect(line).toContain('"device_name":"d\\u00e9v\\\\x"');
    expect(line).toContain('"device_name":"\\u007f\\u0001"');
    expect(line).toContain('"device_name":"\\ud83d\\ude00"');
    expect(line).toContain('"vmstat":{"k\\u00e9\\"y":1,"back\\\\slash":2}');
  });

  it('writes empty sections as [] and {}, and a missing aggregate cpu line as zeros', () => {
    const r = formatted({
      host: 'h', hostname: 'h',
      ...frames(['diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat'], ['', '', '', '', '', '']),
    });
    const [line] = expectSameAsJs(r, 'h', 'h');
    expect(line).toContain('"diskstats":[],"vmstat":{},"meminfo":{},"loadavg":{"load_1min":0.0,');
    expect(line).toContain('"netdev":[],"stat":{"cpu":{"user":0,"nice":0,"system":0,"idle":0,"iowait":0,"irq":0,"softirq":0,"steal":0,"guest":0,"guest_nice":0},"cpus":{},"intr":0,');
  });

  it('follows the JS object where a name repeats or looks like an array index', () => {
    const r = formatted({
      host: 'h', hostname: 'h',
      ...frames(['vmstat', 'meminfo', 'stat'], [
        'b 1\n10 2\na 3\nb 4\n2 5\n007 6\n4294967295 7\n4294967294 8\n',
        'X: 1 kB\nX: 2 kB\n',
        'cpu1 1 1 1 1 1 1 1 1 1 1\ncpu 2 2 2 2 2 2 2 2 2 2\ncpu0 3 3 3 3 3 3 3 3 3 3\ncpu1 4 4 4 4 4 4 4 4 4 4\ncpu 5 5 5 5 5 5 5 5 5 5\nintr 1\n',
      ]),
    });
    const [line] = expectSameAsJs(r, 'h', 'h');
    expect(line).toContain('"vmstat":{"2":5,"10":2,"4294967294":8,"b":4,"a":3,"007":6,"4294967295":7}');
    expect(line).toContain('"meminfo":{"X":2}');
    expect(line).toContain('"stat":{"cpu":{"user":5,');
    expect(line).toContain('"cpus":{"cpu1":{"user":4,"nice":4,"system":4,"idle":4,"iowait":4,"irq":4,"softirq":4,"steal":4,"guest":4,"guest_nice":4},"cpu0":{"user":3,');
  });

  it('stamps the wall time as JS does: whole seconds UTC and the nearest double of the ns', () => {
    const walls = [0n, 951782399999999999n, 1709164800500000000n, 1764610000123456789n, 2n ** 64n - 1n];
    const texts = walls.map(() => ['1 2 3 1/2 3\n']);
    const lines = expectSameAsJs(formatted({ host: 'h', hostname: 'h', wallNs: walls, ...frames(['loadavg'], ...texts) }), 'h', 'h');
    expect(lines[0]).toContain('"timestamp":"1970-01-01T00:00:00Z","timestamp_ns":0,');
    expect(lines[1]).toContain('"timestamp":"2000-02-28T23:59:59Z","timestamp_ns":951782400000000000,');
    expect(lines[3]).toContain('"timestamp_ns":1764610000123456768,');
    expect(lines[4]).toContain('"timestamp":"2554-07-21T23:34:33Z","timestamp_ns":18446744073709551616,');
  });

  it('follows each layout as devices come and go, more layouts than it keeps templates for', () => {
    const disks = [DISK('sda'), DISK('sda') + DISK('sdb'), DISK('sdb'), '', DISK('sdc', '7'), DISK('sdd'), DISK('sda', '9'), DISK('sda')];
    const r = formatted({ host: 'h', hostname: 'h', ...frames(['diskstats', 'loadavg'], ...disks.map((d) => [d, '1 2 3 1/2 3\n'])) });
    const lines = expectSameAsJs(r, 'h', 'h');
    expect(r.batch.layouts.length).toBeGreaterThanOrEqual(6);
    expect(lines[6]).toContain('"device_name":"sda","reads_completed":9,');
  });

  it('refuses frames without the metrics they are texts of', () => {
    expect(() => formatted({ host: 'h', hostname: 'h', frames: [[Buffer.from('')]] })).toThrow(/metrics must name the section/);
    expect(() => formatted({ host: 'h', hostname: 'h', metrics: ['vmstat'], frames: [[]] })).toThrow(/frames \[0\] has 0 texts for 1 metrics/);
  });
});
