/**
 * `hostseries show`: per-interval rows from a real recording (a disk-writing command under
 * `record`), checked against computeRates on the same pairs of samples, as text at 80 and 200
 * columns and piped, and as JSON.
 */
import { describe, expect, it } from 'vitest';
import { computeRates } from '../lib/rates/compute.js';
import type { Rates } from '../lib/types/rates.js';
import type { TimeSeriesSample } from '../lib/models/sample.js';
import { cliWorkdir, cli as runCli, ENV, type Result } from './support/cli.js';
import { hostSamples, makeRecording } from './support/recording.js';

let dir: string;
cliWorkdir('hs-show-', (d) => (dir = d));
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Result => runCli(args, { cwd: dir, env: { ...ENV, ...env } });

interface JsonRow { host: string; section: string; device?: string; iface?: string; time: string; timestamp_ns: number; interval_s: number; values: Record<string, number | null> }
interface ShowJson { rows: JsonRow[]; sections: Record<string, { columns: { key: string }[] }> }

const MiB = 1024 * 1024;
/** What each JSON column is, read from computeRates' result (the definition the test holds show to). */
const EXPECTED: Record<string, (r: Rates, e: string) => number | undefined> = {
  'cpu.usr': (r) => r.cpu.all.usr, 'cpu.sys': (r) => r.cpu.all.sys, 'cpu.iowait': (r) => r.cpu.all.iowait,
  'cpu.steal': (r) => r.cpu.all.steal, 'cpu.idle': (r) => r.cpu.all.idle,
  'disk.r_s': (r, d) => r.disk[d].r_s, 'disk.w_s': (r, d) => r.disk[d].w_s, 'disk.rMB_s': (r, d) => r.disk[d].rMB_s,
  'disk.wMB_s': (r, d) => r.disk[d].wMB_s, 'disk.r_await': (r, d) => r.disk[d].r_await, 'disk.w_await': (r, d) => r.disk[d].w_await,
  'disk.aqu_sz': (r, d) => r.disk[d].aqu_sz, 'disk.util': (r, d) => r.disk[d].util,
  'net.rx_MB_s': (r, i) => r.net[i].rx_bytes_s! / MiB, 'net.tx_MB_s': (r, i) => r.net[i].tx_bytes_s! / MiB,
  'net.rx_packets_s': (r, i) => r.net[i].rx_packets_s, 'net.tx_packets_s': (r, i) => r.net[i].tx_packets_s,
  'mem.used_pct': (r) => r.mem.used_pct, 'mem.pgpgin_s': (r) => r.vm.pgpgin_s, 'mem.pgpgout_s': (r) => r.vm.pgpgout_s,
  'mem.fault_s': (r) => r.vm.fault_s, 'mem.majflt_s': (r) => r.vm.majflt_s,
};

function byEnd(samples: TimeSeriesSample[]): Map<number, number> {
  return new Map(samples.map((s, i) => [s.timestampNs!, i]));
}

describe('show', () => {
  it('--json: every value is computeRates on the same pair of samples, exactly', async () => {
    const file = makeRecording(dir);
    const { samples } = await hostSamples(file);
    const r = cli(['show', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as ShowJson;
    const at = byEnd(samples);
    const sections = new Set(j.rows.map((x) => x.section));
    expect([...sections]).toEqual(expect.arrayContaining(['cpu', 'disk', 'net', 'mem']));
    // One cpu row per interval.
    expect(j.rows.filter((x) => x.section === 'cpu')).toHaveLength(samples.length - 1);
    let checked = 0;
    for (const row of j.rows) {
      if (row.section === 'proc') continue;
      const i = at.get(row.timestamp_ns)!;
      expect(i).toBeGreaterThan(0);
      const rates = computeRates(samples[i - 1], samples[i]);
      expect(row.interval_s).toBe(rates.intervalSeconds);
      for (const [k, v] of Object.entries(row.values)) {
        expect(v, `${row.section}.${k} at ${row.time}`).toBe(EXPECTED[`${row.section}.${k}`](rates, row.device ?? row.iface ?? '') ?? null);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // The command's writes are in the disk rows.
    expect(Math.max(...j.rows.filter((x) => x.section === 'disk').map((x) => x.values.wMB_s ?? 0))).toBeGreaterThan(5);
  });

  it('text at 60 and 80 columns wraps the disk table into column groups where it must, every line fits; at 200 one group', async () => {
    const file = makeRecording(dir);
    const { samples } = await hostSamples(file);
    const full = cli(['show', file, '--disk'], { COLUMNS: '200' }).stdout.split('\n');
    const fullWidth = Math.max(...full.filter((l) => /^(time UTC|\d\d:)/.test(l)).map((l) => l.length));
    for (const width of [60, 80]) {
      const narrow = cli(['show', file, '--disk'], { COLUMNS: String(width) });
      expect(narrow.status, narrow.stderr).toBe(0);
      const lines = narrow.stdout.trimEnd().split('\n');
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(width);
      const heads = lines.filter((l) => l.startsWith('time UTC'));
      if (fullWidth <= width) expect(heads).toHaveLength(1);
      else expect(heads.length).toBeGreaterThanOrEqual(2);
      // Every column is in exactly one group, each group led by the time and the device.
      for (const col of ['r/s', 'w/s', 'rMB/s', 'wMB/s', 'r_await', 'w_await', 'aqu-sz', '%util']) {
        expect(heads.filter((h) => h.split(/\s+/).includes(col)), col).toHaveLength(1);
      }
      for (const h of heads) expect(h).toMatch(/^time UTC\s+device\s+\S/);
    }
    expect(cli(['show', file, '--disk'], { COLUMNS: '60' }).stdout.split('\n').filter((l) => l.startsWith('time UTC')).length).toBeGreaterThanOrEqual(2);
    const wide = cli(['show', file, '--disk'], { COLUMNS: '200' });
    const wl = wide.stdout.trimEnd().split('\n');
    const wheads = wl.filter((l) => l.startsWith('time UTC'));
    expect(wheads).toHaveLength(1);
    expect(wheads[0]).toMatch(/r\/s.*w\/s.*rMB\/s.*wMB\/s.*r_await.*w_await.*aqu-sz.*%util/);
    for (const l of wl) expect(l.length).toBeLessThanOrEqual(200);
    // The printed numbers are the rates, rounded as shown (the disk with the most writes).
    const disk = wl.find((l) => /^\d\d:\d\d:\d\d/.test(l))!.split(/\s+/)[1];
    const rows = wl.filter((l) => /^\d\d:\d\d:\d\d/.test(l) && l.split(/\s+/)[1] === disk);
    expect(rows).toHaveLength(samples.length - 1);
    rows.forEach((l, k) => {
      const r = computeRates(samples[k], samples[k + 1]).disk[disk];
      const cells = l.trim().split(/\s+/).slice(2);
      expect(cells).toEqual([r.r_s, r.w_s, r.rMB_s, r.wMB_s, r.r_await, r.w_await, r.aqu_sz, r.util].map((v) => v!.toFixed(2)));
    });
  });

  it('piped without COLUMNS: 80 columns; sections in order, hosts headed; units in the headings', () => {
    const file = makeRecording(dir);
    const env = { ...ENV };
    delete env.COLUMNS;
    const r = runCli(['show', file], { cwd: dir, env });
    expect(r.status, r.stderr).toBe(0);
    for (const l of r.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/^== \S+: \d+ samples, intervals of 0\.2s/);
    const order = ['CPU (% of time', 'disks (iostat -x', 'network (MB = MiB)', 'memory and paging'].map((t) => r.stdout.indexOf(t));
    expect(order.every((x, i) => x > 0 && (i === 0 || x > order[i - 1]))).toBe(true);
    expect(r.stdout).toMatch(/%usr\s+%sys\s+%iowait\s+%steal\s+%idle/);
    expect(r.stdout).toMatch(/rxMB\/s\s+txMB\/s\s+rxpck\/s\s+txpck\/s/);
    expect(r.stdout).toMatch(/%used\s+pgpgin\/s\s+pgpgout\/s\s+fault\/s\s+majflt\/s/);
    // The command's processes were watched: the proc section is there by default.
    expect(r.stdout).toMatch(/%cpu\s+rssMB\s+rdMB\/s\s+wrMB\/s/);
  });

  it('--every 2, --from/--to and --by-time cut and group the same rates', async () => {
    const file = makeRecording(dir);
    const { samples, host } = await hostSamples(file);
    const every = JSON.parse(cli(['show', file, '--cpu', '--every', '2', '--json']).stdout) as ShowJson;
    expect(every.rows).toHaveLength(Math.floor((samples.length - 1) / 2));
    expect(every.rows[0].values.usr).toBe(computeRates(samples[0], samples[2]).cpu.all.usr);
    const within = JSON.parse(cli(['show', file, '--cpu', '--from', '0.3s', '--to', '1.1s', '--json']).stdout) as ShowJson;
    const t0 = samples[0].timestampNs!;
    const inside = samples.filter((s) => s.timestampNs! >= t0 + 0.3e9 && s.timestampNs! <= t0 + 1.1e9);
    expect(within.rows).toHaveLength(inside.length - 1);
    expect(within.rows[0].timestamp_ns).toBe(inside[1].timestampNs);
    const byTime = cli(['show', file, '--by-time', '--mem'], { COLUMNS: '200' });
    expect(byTime.stdout).toMatch(new RegExp(`^memory and paging\\ntime UTC\\s+host\\s+%used`));
    expect(byTime.stdout).toContain(`  ${host}  `);
  });

  it('bad input: an unknown --host, a bad --from, a missing file name what is at fault', () => {
    const file = makeRecording(dir);
    const h = cli(['show', file, '--host', 'nosuch']);
    expect(h.status).toBe(2);
    expect(h.stderr).toContain('--host "nosuch"');
    expect(h.stderr).toContain('Usage: hostseries show');
    const f = cli(['show', file, '--from', 'yesterday']);
    expect(f.status).toBe(2);
    expect(f.stderr).toContain('--from "yesterday"');
    const m = cli(['show', 'missing.json']);
    expect(m.status).toBe(1);
    expect(m.stderr).toContain('missing.json');
    const e = cli(['show', file, '--every', '0']);
    expect(e.status).toBe(2);
  });
});

describe('summary: per-disk latency, queue and %util, iowait/steal, the hot core, the busiest interval', () => {
  interface Agg { count: number; avg: number; max: number; p95: number }
  interface SummaryJson { hosts: { disks: string[]; disk_details: ({ device: string; in_totals: boolean } & Record<'r_await' | 'w_await' | 'aqu_sz' | 'util', Agg>)[]; cpu_details: { iowait_pct: Agg; steal_pct: Agg; hot_core_busy_pct: Agg; hottest_cpu: { cpu: string; busy_pct: number } | null }; busiest_intervals: { what: string; value: number; time: string }[] }[] }

  it('figures are the aggregates of computeRates over the same pairs; totals count physical disks only', async () => {
    const file = makeRecording(dir);
    const { samples } = await hostSamples(file);
    const r = cli(['summary', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const h = (JSON.parse(r.stdout) as SummaryJson).hosts[0];
    const rates = samples.slice(1).map((s, i) => computeRates(samples[i], s));
    const disk = h.disks[0];
    expect(h.disks.every((d) => !/^(loop|dm-|zram|md)/.test(d))).toBe(true);
    const d = h.disk_details.find((x) => x.device === disk)!;
    expect(d.in_totals).toBe(true);
    const util = rates.map((x) => x.disk[disk].util!);
    expect(d.util.max).toBe(Math.max(...util));
    expect(d.util.avg).toBeCloseTo(util.reduce((a, b) => a + b, 0) / util.length, 10);
    expect(d.w_await.max).toBe(Math.max(...rates.map((x) => x.disk[disk].w_await!)));
    expect(d.aqu_sz.count).toBe(rates.length);
    // Devices outside the totals (loop, zram) are listed apart, never as in_totals.
    for (const x of h.disk_details) if (/^(loop|zram|dm-)/.test(x.device)) expect(x.in_totals).toBe(false);
    expect(h.cpu_details.iowait_pct.max).toBe(Math.max(...rates.map((x) => x.cpu.all.iowait!)));
    expect(h.cpu_details.steal_pct.count).toBe(rates.length);
    const hot = rates.map((x) => Math.max(...Object.entries(x.cpu).filter(([k]) => k !== 'all').map(([, c]) => c.busy!)));
    expect(h.cpu_details.hot_core_busy_pct.max).toBe(Math.max(...hot));
    expect(h.cpu_details.hottest_cpu!.busy_pct).toBe(Math.max(...hot));
    const cpuBusiest = h.busiest_intervals.find((b) => b.what === 'cpu_busy_pct')!;
    const busy = rates.map((x) => x.cpu.all.busy!);
    expect(cpuBusiest.value).toBe(Math.max(...busy));
    expect(cpuBusiest.time).toBe(new Date(Math.round(samples[busy.indexOf(Math.max(...busy)) + 1].timestampNs! / 1e6)).toISOString());
    const text = cli(['summary', file]).stdout;
    expect(text).toMatch(new RegExp(`${disk} r_await ms\\s+[\\d.]+`));
    expect(text).toMatch(new RegExp(`${disk} %util\\s+[\\d.]+`));
    expect(text).toMatch(/CPU iowait %\s+[\d.]+/);
    expect(text).toMatch(/hot core busy %\s+[\d.]+/);
    expect(text).toMatch(/hottest core: cpu\d+, [\d.]+% busy at most/);
    expect(text).toMatch(/busiest interval, disks [\d.,]+ MB\/s: the [\d.]+s to \d\d:\d\d:\d\d\.\d UTC/);
  });
});
