import { describe, expect, it } from 'vitest';
import { thrown } from './support/thrown.js';

import { summarizeHost } from '../lib/cli/summary/host-summary.js';
import { aggregate, summarize } from '../lib/collector/aggregate.js';
import { InvalidOptionError } from '../lib/errors.js';
import { TimeSeriesSample } from '../lib/index.js';
import { computeRates, intervalSeconds } from '../lib/rates/compute.js';
import type { CpuTimes, DiskstatsEntry, NetdevEntry, SampleDict } from '../lib/types/sample.js';

function disk(name: string, v: Partial<DiskstatsEntry>): DiskstatsEntry {
  return {
    device_name: name, reads_completed: 0, reads_merged: 0, sectors_read: 0, time_reading_ms: 0,
    writes_completed: 0, writes_merged: 0, sectors_written: 0, time_writing_ms: 0, ios_in_progress: 0,
    time_doing_ios_ms: 0, weighted_time_doing_ios_ms: 0, ...v,
  };
}


function net(name: string, v: Partial<NetdevEntry>): NetdevEntry {
  const zero = Object.fromEntries(['rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'rx_fifo', 'rx_frame', 'rx_compressed', 'rx_multicast',
    'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped', 'tx_fifo', 'tx_collisions', 'tx_carrier', 'tx_compressed'].map((k) => [k, 0]));
  return { interface_name: name, ...zero, ...v } as NetdevEntry;
}

function cpu(v: Partial<CpuTimes>): CpuTimes {
  return { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guest_nice: 0, ...v };
}

function sample(sec: number, parts: Partial<SampleDict>): SampleDict {
  return { timestamp: new Date(sec * 1000).toISOString().slice(0, 19) + 'Z', timestamp_ns: sec * 1e9, hostname: 'h', ...parts };
}

const stat = (c: CpuTimes, btime = 1000) => ({ cpu: c, cpus: { cpu0: c }, intr: 0, ctxt: 0, btime, processes: 0, procs_running: 0, procs_blocked: 0 });

describe('computeRates (sysstat formulas)', () => {
  const a = sample(100, {
    diskstats: [disk('sda', { reads_completed: 1000, sectors_read: 8000, time_reading_ms: 500, writes_completed: 200, sectors_written: 4096,
      time_writing_ms: 1000, reads_merged: 10, writes_merged: 20, time_doing_ios_ms: 1000, weighted_time_doing_ios_ms: 3000 })],
    netdev: [net('eth0', { rx_bytes: 1_000_000, tx_bytes: 500, rx_packets: 100, tx_packets: 10, rx_errors: 1 })],
    stat: stat(cpu({ user: 100, nice: 0, system: 50, idle: 800, iowait: 50, guest: 20 })),
    meminfo: { MemTotal: 1000, MemAvailable: 250 },
    vmstat: { pgpgin: 100, pgpgout: 200, pgmajfault: 5, pgfault: 1000 },
  });
  const b = sample(102, {
    diskstats: [disk('sda', { reads_completed: 1400, sectors_read: 16192, time_reading_ms: 900, writes_completed: 300, sectors_written: 8192,
      time_writing_ms: 1500, reads_merged: 30, writes_merged: 20, time_doing_ios_ms: 2500, weighted_time_doing_ios_ms: 7000 })],
    netdev: [net('eth0', { rx_bytes: 3_000_000, tx_bytes: 1500, rx_packets: 300, tx_packets: 30, rx_errors: 1 })],
    stat: stat(cpu({ user: 180, nice: 0, system: 90, idle: 920, iowait: 50, guest: 40 })),
    meminfo: { MemTotal: 1000, MemAvailable: 400 },
    vmstat: { pgpgin: 300, pgpgout: 600, pgmajfault: 9, pgfault: 3000 },
  });

  it('disk: r/s, w/s, kB/s, await, aqu-sz, %util', () => {
    const r = computeRates(a, b);
    expect(r.intervalSeconds).toBe(2);
    expect(r.disk.sda).toEqual({
      r_s: 200, w_s: 50, iops: 250, rkB_s: 2048, wkB_s: 1024, rMB_s: 2, wMB_s: 1, rrqm_s: 10, wrqm_s: 0,
      r_await: 1, w_await: 5, aqu_sz: 2, util: 75,
    });
  });

  it('net, cpu, memory and vm', () => {
    const r = computeRates(a, b);
    expect(r.net.eth0).toMatchObject({ rx_bytes_s: 1_000_000, tx_bytes_s: 500, rx_packets_s: 100, tx_packets_s: 10, rx_errors_s: 0 });
    // deltas: user 80 (guest 20 of it), system 40, idle 120, iowait 0: total 240
    expect(r.cpu.all.usr).toBeCloseTo(25);
    expect(r.cpu.all.guest).toBeCloseTo(100 * 20 / 240);
    expect(r.cpu.all.sys).toBeCloseTo(100 * 40 / 240);
    expect(r.cpu.all.idle).toBeCloseTo(50);
    expect(r.cpu.all.busy).toBeCloseTo(50);
    expect(r.cpu.cpu0).toEqual(r.cpu.all);
    expect(r.mem.used_pct).toBe(60);
    expect(r.vm).toEqual({ pgpgin_s: 100, pgpgout_s: 200, fault_s: 1000, majflt_s: 2 });
  });

  it('a counter reset gives no rate, a zero divisor gives 0, a reboot gives none', () => {
    const reset = sample(104, { diskstats: [disk('sda', { reads_completed: 5, time_doing_ios_ms: 2600 })] });
    const r = computeRates(b, reset);
    expect(r.disk.sda.r_s).toBeUndefined();
    expect(r.disk.sda.r_await).toBeUndefined();
    expect(r.disk.sda.w_s).toBeUndefined();
    expect(r.disk.sda.util).toBe(5);
    const idle = computeRates(a, sample(101, { diskstats: a.diskstats }));
    expect(idle.disk.sda).toMatchObject({ r_s: 0, r_await: 0, util: 0 });
    const rebooted = computeRates(a, sample(103, { stat: stat(cpu({ user: 1 }), 2000), diskstats: b.diskstats }));
    expect(rebooted.disk).toEqual({});
    expect(rebooted.cpu).toEqual({});
  });

  it('stays exact with counters above 2^53', () => {
    const x = sample(0, { netdev: [net('lo', { rx_bytes: 2n ** 60n })] });
    const y = sample(1, { netdev: [net('lo', { rx_bytes: 2n ** 60n + 3n })] });
    expect(computeRates(x, y).net.lo.rx_bytes_s).toBe(3);
  });
});

describe('aggregates', () => {
  it('on a known series', () => {
    expect(summarize([10, 20, 30, 40, 50], 4)).toEqual({ count: 5, spanSeconds: 4, avg: 30, min: 10, max: 50, p95: 50 });
    const samples = [10, 20, 30, 40, 50].map((v, i) => sample(i, { loadavg: { load_1min: v, load_5min: 0, load_15min: 0, running_processes: 1, total_processes: 1 } }));
    expect(aggregate(samples, 'loadavg.load_1min')).toEqual({ count: 5, spanSeconds: 4, avg: 30, min: 10, max: 50, p95: 50 });
    expect(aggregate(samples, 'meminfo.MemFree').count).toBe(0);
    expect(() => aggregate(samples, 'loadavg..x')).toThrow(/dotted path/);
    // A typo in the section is an error, not "no data".
    expect(() => aggregate(samples, 'nonsense.path')).toThrow(/no such section/);
    expect(() => aggregate(samples, 'rates.disks.sda.util')).toThrow(/rates\.disk, rates\.net/);
    expect(aggregate(samples, 'diskstats.nvme9n1.reads_completed').count).toBe(0);
  });

  it('over rates and names with dots', () => {
    const s = [0, 1, 2].map((i) => sample(i, { netdev: [net('eth0.100', { rx_bytes: i * i * 100 })], diskstats: [disk('sda', { reads_completed: i * 10 })] }));
    expect(aggregate(s, 'rates.net.eth0.100.rx_bytes_s')).toMatchObject({ count: 2, avg: 200, min: 100, max: 300, spanSeconds: 2 });
    expect(aggregate(s, 'diskstats.sda.reads_completed')).toMatchObject({ count: 3, max: 20 });
    expect(aggregate(s, 'rates.disk.sda.r_s').avg).toBe(10);
  });

  it('a wall clock stepped back between two samples drops that pair\'s rate, not the aggregate', () => {
    // 0 s, 1 s, then a step back to 0.5 s, then 1.5 s: only the pairs that go forward have rates.
    const s = [0, 1, 0.5, 1.5].map((t, i) => sample(t, { diskstats: [disk('sda', { reads_completed: i * 10 })] }));
    expect(aggregate(s, 'rates.disk.sda.r_s')).toMatchObject({ count: 2, min: 10, max: 10 });
  });
});

describe('computeRates: bad input', () => {
  const early = sample(100, {});
  const late = sample(102, {});

  it('refuses what is not a sample, with a coded error naming the argument', () => {
    const cases: [unknown, unknown, RegExp][] = [
      [null, null, /computeRates: prev must be a sample \(an object with a timestamp\), got null/],
      [early, undefined, /computeRates: cur must be a sample .*got undefined/],
      [{}, early, /computeRates: prev must be a sample .*got an object without a timestamp/],
      [early, 7, /computeRates: cur must be a sample .*got number 7/],
    ];
    for (const [p, c, message] of cases) {
      const e = thrown(() => computeRates(p as SampleDict, c as SampleDict));
      expect(e).toBeInstanceOf(InvalidOptionError);
      expect((e as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a later sample before an earlier one instead of giving a negative interval', () => {
    const e = thrown(() => computeRates(late, early));
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toBe('computeRates: cur (1970-01-01T00:01:40Z) was taken 2 s before prev (1970-01-01T00:01:42Z); pass the earlier sample first');
    // Same time is no error: no rates (a zero interval).
    expect(computeRates(early, early).disk).toEqual({});
  });
});

/** An mlpstorage sample: whole-second timestamp only (no timestamp_ns). */
function coarse(seconds: number, parts: Partial<SampleDict>): SampleDict {
  return { timestamp: new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19) + 'Z', hostname: 'h', ...parts };
}

describe('whole-second timestamps (mlpstorage files)', () => {
  /** Sample i of a run every `interval` s: sda and loop0 (a file on sda) each read 100 per sample. */
  const run = (interval: number, i: number): TimeSeriesSample => TimeSeriesSample.fromTrustedDict(coarse(0.25 + i * interval, {
    diskstats: [disk('sda', { reads_completed: 100 * i }), disk('sda1', { reads_completed: 100 * i }), disk('loop0', { reads_completed: 100 * i }),
      disk('loop1', {})],
    meminfo: { MemTotal: 1000, MemAvailable: 500 },
  }));

  it('time each pair with the file\'s interval where the timestamps cannot resolve it', () => {
    expect(intervalSeconds(run(0.5, 0), run(0.5, 1))).toBe(0); // both stamped 00:00:00
    expect(intervalSeconds(run(0.5, 0), run(0.5, 1), { nominalSeconds: 0.5 })).toBe(0.5);
    expect(intervalSeconds(run(0.5, 1), run(0.5, 2), { nominalSeconds: 0.5 })).toBe(0.5);
    expect(computeRates(run(0.5, 0), run(0.5, 1), { nominalSeconds: 0.5 }).disk.sda.r_s).toBe(200);
    // Drift (a 1.02 s step) makes whole-second stamps 2 s apart now and then: still one step.
    expect(intervalSeconds(coarse(0.99, {}), coarse(2.01, {}), { nominalSeconds: 1 })).toBe(1);
    // A real hole is longer than the timestamps' resolution: the timestamps tell it.
    expect(intervalSeconds(coarse(0, {}), coarse(5, {}), { nominalSeconds: 1 })).toBe(5);
    // Precise stamps always win.
    expect(intervalSeconds(sample(1, {}), sample(3, {}), { nominalSeconds: 1 })).toBe(2);
  });

  it('summary of a 0.5 s mlpstorage run: every pair, full IOPS, no gaps; a loop device is not counted twice', () => {
    const samples = Array.from({ length: 9 }, (_, i) => run(0.5, i));
    const h = summarizeHost('h', samples, 0.5);
    expect(h.gaps).toBe(0);
    expect(h.intervalSeconds).toBe(0.5);
    expect(h.spanSeconds).toBe(4);
    expect(h.metrics.disk_iops.count).toBe(8);
    expect(h.metrics.disk_iops.avg).toBe(200);
    expect(h.metrics.disk_iops.min).toBe(200);
    expect(h.disks).toEqual(['sda']);
    expect(h.otherDevices).toEqual(['loop0']);
  });

  it('times a pair across an error sample by its ticks, and counts the hole as a gap', () => {
    const samples = Array.from({ length: 9 }, (_, i) => run(0.5, i));
    samples[4] = TimeSeriesSample.fromTrustedDict(coarse(0.25 + 4 * 0.5, { errors: { ssh: 'timeout' } }));
    const h = summarizeHost('h', samples, 0.5);
    expect(h.metrics.disk_iops.count).toBe(7);
    expect([h.metrics.disk_iops.min, h.metrics.disk_iops.max]).toEqual([200, 200]);
    expect([h.gaps, h.longestGapSeconds, h.errorSamples]).toEqual([1, 1, 1]);
  });

  it('warns about out-of-order samples and summarises them in time order, without gaps', () => {
    const precise = Array.from({ length: 6 }, (_, i) => TimeSeriesSample.fromTrustedDict(sample(i, { diskstats: [disk('sda', { reads_completed: 50 * i })] })));
    const shuffled = [precise[0], precise[2], precise[1], precise[3], precise[5], precise[4]];
    const h = summarizeHost('h', shuffled, 1);
    expect([h.gaps, h.outOfOrder]).toEqual([0, 2]);
    expect(h.warnings).toEqual(['h: 2 samples are out of time order in the file (summarised in time order)']);
    expect([h.metrics.disk_iops.min, h.metrics.disk_iops.max, h.metrics.disk_iops.count]).toEqual([50, 50, 5]);
    expect(summarizeHost('h', precise, 1).warnings).toEqual([]);
  });
});
