import { describe, expect, it } from 'vitest';

import { aggregate, summarize } from '../lib/collector/aggregate.js';
import { computeRates } from '../lib/rates/index.js';
import type { CpuTimes, DiskstatsEntry, NetdevEntry, SampleDict } from '../lib/types.js';

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
  return { timestamp: new Date(sec * 1000).toISOString().slice(0, 19) + 'Z', timestamp_ns: BigInt(sec * 1e9), hostname: 'h', ...parts };
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
  });

  it('over rates and names with dots', () => {
    const s = [0, 1, 2].map((i) => sample(i, { netdev: [net('eth0.100', { rx_bytes: i * i * 100 })], diskstats: [disk('sda', { reads_completed: i * 10 })] }));
    expect(aggregate(s, 'rates.net.eth0.100.rx_bytes_s')).toMatchObject({ count: 2, avg: 200, min: 100, max: 300, spanSeconds: 2 });
    expect(aggregate(s, 'diskstats.sda.reads_completed')).toMatchObject({ count: 3, max: 20 });
    expect(aggregate(s, 'rates.disk.sda.r_s').avg).toBe(10);
  });
});
