/**
 * `hostseries export`: a real recording as CSV/TSV/JSON Lines/OpenMetrics, raw counters and
 * rates, long and wide; the wide CSV read back gives the recording's numbers and computeRates'
 * exactly; -o never replaces a file without --force.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeRates } from '../lib/rates/compute.js';
import { rateMetrics, rawMetrics, metricName } from '../lib/views/metrics.js';
import { cliWorkdir, cli as runCli, type Result } from './support/cli.js';
import { hostSamples, makeRecording } from './support/recording.js';

let dir: string;
cliWorkdir('hs-export-', (d) => (dir = d));
const cli = (args: string[]): Result => runCli(args, { cwd: dir });

/** RFC 4180 lines without quoted newlines (none in our names). */
function parseCsv(text: string, sep = ','): string[][] {
  return text.trimEnd().split('\n').map((l) => {
    if (sep !== ',') return l.split(sep);
    const cells: string[] = [];
    for (const m of l.matchAll(/("((?:[^"]|"")*)"|[^,]*)(,|$)/g)) {
      cells.push(m[2] !== undefined ? m[2].replace(/""/g, '"') : m[1]);
      if (m[3] === '') break;
    }
    return cells;
  });
}

describe('export', () => {
  it('--wide --rates csv read back: every cell is computeRates on the same pair, exactly', async () => {
    const file = makeRecording(dir);
    const { samples, host } = await hostSamples(file);
    const r = cli(['export', file, '--format', 'csv', '--rates', '--wide']);
    expect(r.status, r.stderr).toBe(0);
    const [head, ...rows] = parseCsv(r.stdout);
    expect(head.slice(0, 3)).toEqual(['host', 'time', 'timestamp_ns']);
    expect(head).toContain('cpu.all.usr');
    expect(head).toContain('mem.used_pct');
    expect(rows).toHaveLength(samples.length - 1);
    let cells = 0;
    rows.forEach((row, k) => {
      expect(row[0]).toBe(host);
      expect(Number(row[2])).toBe(samples[k + 1].timestampNs);
      const want = new Map<string, number | bigint>();
      rateMetrics(computeRates(samples[k], samples[k + 1]), (a, b, c, v) => want.set(metricName(a, b, c), v));
      head.slice(3).forEach((col, i) => {
        const cell = row[i + 3];
        if (!want.has(col)) expect(cell).toBe('');
        else {
          expect(Number(cell), col).toBe(want.get(col));
          cells++;
        }
      });
    });
    expect(cells).toBeGreaterThan(100);
  });

  it('--wide raw csv and tsv read back give the counters as recorded (digits exact)', async () => {
    const file = makeRecording(dir);
    const { samples } = await hostSamples(file);
    for (const [format, sep] of [['csv', ','], ['tsv', '\t']] as const) {
      const r = cli(['export', file, '-f', format, '--wide']);
      expect(r.status, r.stderr).toBe(0);
      const [head, ...rows] = parseCsv(r.stdout, sep);
      expect(rows).toHaveLength(samples.length);
      rows.forEach((row, k) => {
        const want = new Map<string, string>();
        rawMetrics(samples[k], (a, b, c, v) => want.set(metricName(a, b, c), String(v)));
        expect(want.size).toBeGreaterThan(100);
        for (const [m, v] of want) expect(row[head.indexOf(m)], m).toBe(v);
      });
    }
  });

  it('long csv and jsonl: one value a line, the same values; --from/--to cut by time', async () => {
    const file = makeRecording(dir);
    const { samples } = await hostSamples(file);
    const csv = parseCsv(cli(['export', file, '-f', 'csv', '--rates']).stdout);
    expect(csv[0]).toEqual(['host', 'time', 'timestamp_ns', 'metric', 'value']);
    const jsonl = cli(['export', file, '-f', 'jsonl', '--rates']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { metric: string; value: number; timestamp_ns: number });
    expect(jsonl).toHaveLength(csv.length - 1);
    jsonl.forEach((j, i) => {
      expect(j.metric).toBe(csv[i + 1][3]);
      expect(j.value).toBe(Number(csv[i + 1][4]));
    });
    const util = jsonl.find((j) => j.metric.endsWith('.util') && j.timestamp_ns === samples[1].timestampNs)!;
    const dev = util.metric.split('.')[1];
    expect(util.value).toBe(computeRates(samples[0], samples[1]).disk[dev].util);
    const cut = cli(['export', file, '-f', 'jsonl', '--wide', '--from', '0.3s', '--to', '1.1s']).stdout.trimEnd().split('\n');
    const t0 = samples[0].timestampNs!;
    expect(cut).toHaveLength(samples.filter((s) => s.timestampNs! >= t0 + 0.3e9 && s.timestampNs! <= t0 + 1.1e9).length);
  });

  it('openmetrics: each family once and contiguous, counters _total, # EOF last', async () => {
    const file = makeRecording(dir);
    const { samples, host } = await hostSamples(file);
    const r = cli(['export', file, '-f', 'openmetrics']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('# EOF');
    const families: string[] = [];
    let current = '';
    const seriesSeen = new Set<string>();
    let lastSeries = '';
    for (const l of lines.slice(0, -1)) {
      const t = /^# TYPE (\S+) (counter|gauge|unknown)$/.exec(l);
      if (t) {
        expect(families).not.toContain(t[1]);
        families.push(t[1]);
        current = t[1];
        continue;
      }
      const m = /^(\S+?)\{(.*)\} (\S+) (\d+\.\d{3})$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(m![1] === current || m![1] === `${current}_total`).toBe(true);
      // A series' lines are together.
      const series = `${m![1]}{${m![2]}}`;
      if (series !== lastSeries) {
        expect(seriesSeen.has(series), series).toBe(false);
        seriesSeen.add(series);
        lastSeries = series;
      }
    }
    // Raw counters under node_exporter's names and units.
    expect(r.stdout).toContain('# TYPE node_disk_written_bytes counter');
    const d = samples[2].diskstats![0];
    expect(r.stdout).toContain(`node_disk_written_bytes_total{host="${host}",device="${d.device_name}"} ${Number(d.sectors_written) * 512} ${(samples[2].timestampNs! / 1e9).toFixed(3)}\n`);
    expect(r.stdout).toContain('# TYPE node_memory_MemAvailable_bytes gauge');
    expect(r.stdout).toContain('# TYPE node_vmstat_pgpgin unknown');
  });

  it('openmetrics: promtool backfills it (a block with every series and sample)', async () => {
    const file = makeRecording(dir);
    const out = join(dir, 'run.om');
    expect(cli(['export', file, '-f', 'openmetrics', '-o', out, '--force']).status).toBe(0);
    const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    const series = new Set(lines.map((l) => l.slice(0, l.lastIndexOf('} ') + 1)));
    const blocks = join(dir, 'blocks');
    const r = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', out, blocks], { encoding: 'utf8' });
    expect(r.error, 'promtool (Debian prometheus, scripts/install-test-deps.sh)').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const row = r.stdout.trim().split('\n').pop()!.trim().split(/\s+/);
    // BLOCK ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE
    expect(Number(row[6])).toBe(series.size);
    expect(Number(row[4])).toBe(lines.length);
  });

  it('-o: an existing file is refused without --force (and left alone), replaced with it; bad --format is exit 2', () => {
    const file = makeRecording(dir);
    const out = join(dir, 'out.csv');
    writeFileSync(out, 'precious\n');
    const refused = cli(['export', file, '-f', 'csv', '-o', out]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${out}: exists; give --force`);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
    const forced = cli(['export', file, '-f', 'csv', '-o', out, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^host,time,timestamp_ns,metric,value\n/);
    const bad = cli(['export', file, '-f', 'xml']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--format "xml"');
    const wideOm = cli(['export', file, '-f', 'openmetrics', '--wide']);
    expect(wideOm.status).toBe(2);
  });
});
