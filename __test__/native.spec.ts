import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { HostseriesError, InvalidOptionError, LifecycleError, NativeError } from '../lib/errors.js';
import { readTimeSeriesJson, writeTimeSeriesJson } from '../lib/files/json-file.js';
import { TimeSeriesData, TimeSeriesSample } from '../lib/index.js';
import { binding, toHostseriesError } from '../lib/native/binding.js';
import { LayoutCache, NativeSampler, decodeBatch, parseDiskstats, parseLoadavg, parseMeminfo, parseNetDev, parseStat, parseVmstat, sampleOnce } from '../lib/native/sampler.js';
import type { NativeSamplerOptions } from '../lib/types/native.js';

const root = join(__dirname, '..');

describe('parsers (reference semantics)', () => {
  it('diskstats: 14-, 18- and 20-field lines, short lines skipped, partitions and loops kept', () => {
    const d = parseDiskstats(
      [
        '   8       0 sda 1 2 3 4 5 6 7 8 9 10 11',
        '   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15',
        ' 259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17',
        '   7       0 loop0 1 2 3 4 5 6 7 8 9 10',
        '',
      ].join('\n'),
    );
    expect(d.map((e) => e.device_name)).toEqual(['sda', 'sda1', 'nvme0n1']);
    expect(d[0]).toEqual({
      device_name: 'sda', reads_completed: 1, reads_merged: 2, sectors_read: 3, time_reading_ms: 4,
      writes_completed: 5, writes_merged: 6, sectors_written: 7, time_writing_ms: 8, ios_in_progress: 9,
      time_doing_ios_ms: 10, weighted_time_doing_ios_ms: 11,
    });
    expect(d[1].time_discarding_ms).toBe(15);
    expect(d[1].flush_requests_completed).toBeUndefined();
    expect(d[2].flush_requests_completed).toBe(16);
    expect(d[2].time_flushing_ms).toBe(17);
  });

  it('keeps counters near 2^64 exact', () => {
    const d = parseDiskstats('8 0 sda 18446744073709551615 9007199254740991 9007199254740992 0 0 0 0 0 0 0 0');
    expect(d[0].reads_completed).toBe(18446744073709551615n);
    expect(d[0].reads_merged).toBe(9007199254740991);
    expect(d[0].sectors_read).toBe(9007199254740992n);
    expect(parseVmstat('pgpgin 18446744073709551614\n').pgpgin).toBe(18446744073709551614n);
  });

  it('net/dev: headers skipped, `eth1:1 2 ...` parses, short lines skipped', () => {
    const text = 'Inter-|   Receive\n face |bytes\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n'
      + 'eth1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nbad: 1 2 3\n';
    const n = parseNetDev(Buffer.from(text));
    expect(n.map((e) => e.interface_name)).toEqual(['lo', 'eth1']);
    expect(n[1]).toMatchObject({ rx_bytes: 1, rx_multicast: 8, tx_bytes: 9, tx_compressed: 16 });
  });

  it('meminfo, vmstat, loadavg and stat', () => {
    expect(parseMeminfo('MemTotal:  100 kB\nHugePages_Total:   0\nBroken line\n')).toEqual({ MemTotal: 100, HugePages_Total: 0 });
    expect(parseVmstat('nr_free_pages 5\nthree tokens here\n')).toEqual({ nr_free_pages: 5 });
    expect(parseLoadavg('0.52 0.58 0.59 2/1234 5678\n')).toEqual({
      load_1min: 0.52, load_5min: 0.58, load_15min: 0.59, running_processes: 2, total_processes: 1234,
    });
    const stat = parseStat('cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8\nintr 99 1 2\nctxt 7\nbtime 1700000000\nprocesses 3\nprocs_running 2\nprocs_blocked 1\n');
    expect(stat.cpu.guest_nice).toBe(10);
    expect(stat.cpus.cpu0.steal).toBe(8);
    expect(stat.cpus.cpu0.guest).toBe(0);
    expect(stat).toMatchObject({ intr: 99, ctxt: 7, btime: 1700000000, processes: 3, procs_running: 2, procs_blocked: 1 });
  });

  it('garbage and empty input give empty results, never a throw', () => {
    for (const text of ['', '\0\xff garbage\n:::\n', 'x'.repeat(10000)]) {
      expect(parseDiskstats(text)).toEqual([]);
      expect(parseNetDev(text)).toEqual([]);
      expect(parseMeminfo(text)).toEqual({});
      expect(parseVmstat(text)).toEqual({});
      expect(parseLoadavg(text)).toEqual({ load_1min: 0, load_5min: 0, load_15min: 0, running_processes: 0, total_processes: 0 });
      expect(parseStat(text).cpus).toEqual({});
    }
  });

  it('dicts keep every key, `__proto__` and `constructor` included, in file order', () => {
    const text = 'zzz 1\n__proto__ 2\nconstructor 3\ntoString 4\nhasOwnProperty 5\n10 6\nnr_free_pages 7\n';
    const v = parseVmstat(text);
    // A plain object whose keys are all own data; the prototype is untouched.
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')).toEqual({ value: 2, enumerable: true, writable: true, configurable: true });
    // File order, except the integer-like `10`, which every JS object lists first (see decode.ts).
    expect(Object.keys(v)).toEqual(['10', 'zzz', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'nr_free_pages']);
    expect(Object.values(v)).toEqual([6, 1, 2, 3, 4, 5, 7]);
    const json = JSON.stringify(v);
    expect(json).toBe('{"10":6,"zzz":1,"__proto__":2,"constructor":3,"toString":4,"hasOwnProperty":5,"nr_free_pages":7}');
    expect(Object.entries(JSON.parse(json) as object)).toEqual(Object.entries(v));
    expect(Object.keys(parseMeminfo('__proto__:  8 kB\nMemTotal: 9 kB\n'))).toEqual(['__proto__', 'MemTotal']);
  });

  it('such dicts round-trip through toDict/fromDict and writeTimeSeriesJson/readTimeSeriesJson', async () => {
    const vmstat = parseVmstat('zzz 1\n__proto__ 2\nconstructor 3\n10 4\n');
    const meminfo = parseMeminfo('__proto__: 5 kB\nMemTotal: 6 kB\n');
    const sample = TimeSeriesSample.fromTrustedDict({ timestamp: '2026-01-24T12:00:00Z', hostname: 'h', vmstat, meminfo });
    const copy = TimeSeriesSample.fromDict(sample.toDict());
    expect(Object.entries(copy.vmstat!)).toEqual(Object.entries(vmstat));
    const dir = mkdtempSync(join(tmpdir(), 'hostseries-keys-'));
    try {
      const file = join(dir, 'run.json');
      const data = new TimeSeriesData({
        collectionIntervalSeconds: 1, startTime: sample.timestamp, endTime: sample.timestamp, collectionMethod: 'local',
        hostsRequested: ['h'], samplesByHost: { h: [sample] },
      });
      await writeTimeSeriesJson(file, data);
      expect(readFileSync(file, 'utf8')).toMatch(/"vmstat": \{\s+"10": 4,\s+"zzz": 1,\s+"__proto__": 2,\s+"constructor": 3\s+\}/);
      const back = (await readTimeSeriesJson(file)).samplesByHost.get('h')![0];
      expect(Object.entries(back.vmstat!)).toEqual(Object.entries(vmstat));
      expect(Object.entries(back.meminfo!)).toEqual([['__proto__', 5], ['MemTotal', 6]]);
      expect(Object.getPrototypeOf(back.vmstat)).toBe(Object.prototype);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects input that is not text', () => {
    expect(() => parseDiskstats(42 as unknown as string)).toThrow(HostseriesError);
  });
});

describe('ProcParser (remote frames)', () => {
  it('keeps state between frames: a layout crosses once, and again only when devices change', () => {
    const parser = new (binding().ProcParser)();
    const cache = new LayoutCache();
    const disk = (name: string, v: number) => Buffer.from(`8 0 ${name} ${v} 2 3 4 5 6 7 8 9 10 11\n`);
    const load = Buffer.from('0.50 0.25 0.10 1/100 42\n');
    const a = parser.parse(['diskstats', 'loadavg'], [disk('sda', 1), load], 1n, 1n);
    const b = parser.parse(['diskstats', 'loadavg'], [disk('sda', 7), null], 2n, 2n);
    const c = parser.parse(['diskstats'], [disk('sdb', 9)], 3n, 3n);
    expect(a.layouts).toHaveLength(1);
    expect(b.layouts).toHaveLength(1); // loadavg went missing: another shape
    expect(c.layouts).toHaveLength(1);
    const d = parser.parse(['diskstats'], [disk('sdb', 10)], 4n, 4n);
    expect(d.layouts).toHaveLength(0);
    const decoded = [a, b, c, d].map((x) => decodeBatch(x, 'h', cache).samples[0]);
    expect(decoded.map((s) => s.diskstats![0].reads_completed)).toEqual([1, 7, 9, 10]);
    expect(decoded[0].loadavg!.total_processes).toBe(100);
    expect(decoded[1].loadavg).toBeUndefined();
    expect(decoded[3].diskstats![0].device_name).toBe('sdb');
    // A batch decoded without the cache that saw its layout: a coded error, not a bare Error.
    expect(() => decodeBatch(d, 'h', new LayoutCache())).toThrow(NativeError);
  });
});

describe('sampleOnce on the real /proc', () => {
  it('agrees with a fresh read of /proc', async () => {
    const s = await sampleOnce();
    const devices = readFileSync('/proc/diskstats', 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
      .filter((p) => p.length >= 14).map((p) => p[2]);
    expect(s.diskstats!.map((d) => d.device_name)).toEqual(devices);
    const ifaces = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter((l) => l.includes(':'))
      .map((l) => l.split(':')[0].trim());
    expect(s.netdev!.map((n) => n.interface_name)).toEqual(ifaces);
    const memTotal = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(s.meminfo!.MemTotal).toBe(memTotal);
    const cpuLines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
    expect(Object.keys(s.stat!.cpus)).toHaveLength(cpuLines);
    expect(cpuLines).toBeLessThanOrEqual(availableParallelism() * 64);
    expect(s.vmstat!.pgpgin).toBeDefined();
    expect(s.loadavg!.total_processes).toBeGreaterThan(0);
    expect(s.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(typeof s.timestamp_ns).toBe('number'); // exact to 256 ns, and JSON.stringify takes it
    expect(s.errors).toBeUndefined();
  });

  it('reads only the selected files', async () => {
    const s = await sampleOnce({ metrics: ['loadavg', 'meminfo'] });
    expect(Object.keys(s)).toEqual(['timestamp', 'timestamp_ns', 'hostname', 'meminfo', 'loadavg']);
  });

  it('names a bad metric', async () => {
    await expect(sampleOnce({ metrics: ['disks' as 'diskstats'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"disks"'),
    });
  });
});

describe('NativeSampler', () => {
  it('rejects bad options with InvalidOptionErrors naming the JS option', () => {
    const thrown = (o: unknown): unknown => {
      try {
        new NativeSampler(o as NativeSamplerOptions);
      } catch (e) {
        return e;
      }
      throw new Error(`accepted ${JSON.stringify(o)}`);
    };
    const cases: [unknown, string][] = [
      [{ intervalMs: 5 }, 'intervalMs must be at least 10 ms, got 5ms'],
      [{ intervalMs: Number.NaN }, 'intervalMs must be at least 10 ms, got NaN ms'],
      [{ intervalMs: -20 }, 'intervalMs must be at least 10 ms, got -20 ms'],
      [{ intervalMs: '100' }, 'intervalMs must be a number, got "100"'],
      [{ intervalMs: 100, capacity: 0 }, 'capacity must be at least 1, got 0'],
      [{ intervalMs: 100, capacity: 1.5 }, 'capacity must be a whole number below 2^32, got 1.5'],
      [{ intervalMs: 100, capacity: -1 }, 'capacity must be a whole number below 2^32, got -1'],
      [{ intervalMs: 100, metrics: [] }, 'metrics must name at least one of diskstats, vmstat, meminfo, loadavg, netdev, stat'],
      [{ intervalMs: 100, metrics: ['loadavg', 'disks'] }, 'metrics has an unknown metric "disks"; expected one of diskstats, vmstat, meminfo, loadavg, netdev, stat'],
      [{ intervalMs: 100, metrics: 'loadavg' }, 'metrics must be an array of the names diskstats, vmstat, meminfo, loadavg, netdev, stat, got "loadavg"'],
      [{ intervalMs: 100, procPath: '' }, 'procPath must not be empty'],
      [{ intervalMs: 100, procPath: 7 }, 'procPath must be a string, got 7'],
      [null, 'NativeSampler options must be an object'],
    ];
    for (const [options, message] of cases) {
      const e = thrown(options);
      expect(e, JSON.stringify(options)).toBeInstanceOf(InvalidOptionError);
      expect(e).toMatchObject({ code: 'ERR_INVALID_OPTION', message });
    }
  });

  it('errors cross the binding with their code set, no message parsing', () => {
    const raw = (): unknown => {
      try {
        new (binding().NativeSampler)({ intervalMs: 100, capacity: 0 });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const e = raw();
    // What napi-rs throws: a plain Error whose `code` is the core's ErrorCode.
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: 'ERR_INVALID_OPTION', message: 'capacity must be at least 1, got 0' });
    const mapped = toHostseriesError(e);
    expect(mapped).toBeInstanceOf(InvalidOptionError);
    expect(mapped.cause).toBe(e);
    // A failure of N-API itself (its status as the code) is an ERR_NATIVE NativeError.
    const napi = Object.assign(new Error('Failed to convert napi value'), { code: 'NumberExpected' });
    expect(toHostseriesError(napi)).toBeInstanceOf(NativeError);
    expect(toHostseriesError(napi)).toMatchObject({ code: 'ERR_NATIVE', message: 'Failed to convert napi value', cause: napi });
    // A message that merely looks coded is not taken apart.
    expect(toHostseriesError(new Error('[ERR_INVALID_OPTION] x'))).toMatchObject({ code: 'ERR_NATIVE', message: '[ERR_INVALID_OPTION] x' });
  });

  it('a proc directory that cannot be read is an ERR_PROC_READ NativeError naming it', async () => {
    const missing = join(tmpdir(), `hostseries-no-proc-${process.pid}`);
    const s = new NativeSampler({ intervalMs: 100, procPath: missing });
    let e: unknown;
    try {
      s.start();
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(NativeError);
    expect(e).toMatchObject({ code: 'ERR_PROC_READ', message: `${missing}: No such file or directory (os error 2)` });
    expect(s.running).toBe(false);
    const rejected = sampleOnce({ procPath: missing });
    await expect(rejected).rejects.toBeInstanceOf(NativeError);
    await expect(rejected).rejects.toMatchObject({ code: 'ERR_PROC_READ' });
  });

  it('reads a proc copy at procPath; a file there that cannot be read is named in the sample', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostseries-proc-'));
    try {
      writeFileSync(join(dir, 'loadavg'), '0.50 0.25 0.10 1/100 42\n');
      mkdirSync(join(dir, 'meminfo')); // reading a directory fails (EISDIR), also as root
      const s = await sampleOnce({ procPath: dir, metrics: ['loadavg', 'meminfo', 'vmstat'], hostname: 'h' });
      expect(s.loadavg).toEqual({ load_1min: 0.5, load_5min: 0.25, load_15min: 0.1, running_processes: 1, total_processes: 100 });
      expect(s.meminfo).toBeUndefined();
      expect(s.errors).toEqual({
        vmstat: `${join(dir, 'vmstat')}: No such file or directory (os error 2)`,
        meminfo: `${join(dir, 'meminfo')}: Is a directory (os error 21)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('start twice is a LifecycleError', () => {
    const s = new NativeSampler({ intervalMs: 1000, metrics: ['loadavg'] });
    s.start();
    try {
      expect(() => s.start()).toThrow(LifecycleError);
      expect(() => s.start()).toThrow(expect.objectContaining({ code: 'ERR_ALREADY_STARTED', message: 'the sampler is already running' }));
    } finally {
      s.stop();
    }
  });

  it('samples on cadence, drains in batches and stops at once', async () => {
    const s = new NativeSampler({ intervalMs: 20, capacity: 1000 });
    let wakes = 0;
    s.start(() => { wakes++; });
    expect(() => s.start()).toThrow(expect.objectContaining({ code: 'ERR_ALREADY_STARTED' }));
    await new Promise((r) => setTimeout(r, 250));
    const first = s.drain();
    await new Promise((r) => setTimeout(r, 100));
    const rest = s.stop();
    expect(s.running).toBe(false);
    const all = [...first.monoNs, ...rest.monoNs];
    // Ticks at 0, 20, ... ms over ~350 ms; every tick is either sampled or counted as missed.
    expect(all.length + rest.missedTicks).toBeGreaterThanOrEqual(15);
    expect(all.length + rest.missedTicks).toBeLessThanOrEqual(20);
    expect(wakes).toBeGreaterThan(0);
    // Deadlines are absolute: sample k sits near start + k * 20 ms, so no drift accumulates.
    const t0 = all[0];
    const last = all[all.length - 1];
    const k = Math.round(Number(last - t0) / 20e6);
    expect(Math.abs(Number(last - t0) - k * 20e6)).toBeLessThan(20e6);
    expect(first.samples[0].diskstats).toBeDefined();
    expect(s.stop().samples).toEqual([]);
  });

  it('drops the oldest beyond capacity and says so', async () => {
    const s = new NativeSampler({ intervalMs: 10, capacity: 3, metrics: ['loadavg'] });
    s.start();
    await new Promise((r) => setTimeout(r, 150));
    const b = s.stop();
    expect(b.samples).toHaveLength(3);
    expect(b.dropped).toBeGreaterThan(0);
  });

  it('does not keep a process alive after stop, nor while running', () => {
    const script = `
      const { NativeSampler } = require(${JSON.stringify(join(root, 'dist', 'native', 'sampler.js'))});
      const a = new NativeSampler({ intervalMs: 10 }); a.start(() => {});
      setTimeout(() => { const b = a.stop(); console.log(b.samples.length);
        const c = new NativeSampler({ intervalMs: 10 }); c.start(() => {}); /* left running */ }, 100);`;
    const r = spawnSync(process.execPath, ['-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(3);
  });

  it('survives a worker thread terminated mid-sampling', async () => {
    const src = `
      const { parentPort } = require('node:worker_threads');
      const { NativeSampler } = require(${JSON.stringify(join(root, 'dist', 'native', 'sampler.js'))});
      const s = new NativeSampler({ intervalMs: 10 });
      s.start(() => { const b = s.drain(); if (b.samples.length) parentPort.postMessage(b.samples.length); });
      setInterval(() => {}, 1000); // the sampler itself never keeps a thread alive`;
    for (let round = 0; round < 3; round++) {
      const w = new Worker(src, { eval: true });
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(await w.terminate()).toBe(1);
    }
    // The process is still healthy: sample once more after the workers are gone.
    expect((await sampleOnce({ metrics: ['loadavg'] })).loadavg).toBeDefined();
  });
});
