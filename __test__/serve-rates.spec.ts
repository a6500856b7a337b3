/**
 * The read API's fast rates (lib/serve/rate-inputs.ts: one formula over the columns of its
 * inputs) equal the general path (`series()`, i.e. `computeRates` over whole samples): the same
 * values, wall times and span, over many random sample sets grown from real recorded samples —
 * counters that step and reset, devices, interfaces, CPUs, keys and whole sections missing from
 * some samples (NaN in the columns), reboots, and a wall clock that stands still or steps back —
 * and random paths (every rate field, unknown devices and fields). Once over tables built with
 * `valueAt` (any interval, negative too), once through the real store (SqliteStore, random
 * windows), where the samples come back in time order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { series, TimeSeriesCollector, valueAt } from '../lib/index.js';
import { isoSeconds } from '../lib/native/decode.js';
import { CPU_FORMULAS, DISK_FORMULAS, MEM_FORMULAS, NET_FORMULAS, VM_FORMULAS } from '../lib/rates/formulas.js';
import { pathPoints } from '../lib/serve/query.js';
import { rateRecipe, rateSeries } from '../lib/serve/rate-inputs.js';
import { SqliteStore } from '../lib/serve/store/sqlite.js';
import type { Table } from '../lib/serve/store/store.js';
import type { SampleDict } from '../lib/types/sample.js';
import { rng } from './support/rng.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let dir = '';
let real: SampleDict[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostseries-serve-rates-'));
  const c = new TimeSeriesCollector({ intervalSeconds: 0.05 });
  await c.start();
  await sleep(600);
  real = (await c.stop()).map((s) => s.toDict());
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** Every counter record of a sample that rates read (a disk, an interface, a CPU, vmstat). */
function counterRecords(s: SampleDict): Record<string, unknown>[] {
  return [
    ...(s.diskstats ?? []), ...(s.netdev ?? []),
    ...(s.stat ? [s.stat.cpu, ...Object.values(s.stat.cpus)] : []),
    ...(s.vmstat ? [s.vmstat] : []),
  ] as unknown as Record<string, unknown>[];
}

/** The next state: every counter stepped (mostly a little, sometimes by a lot), at times one reset or a reboot. */
function evolve(prev: SampleDict, rand: Rand): SampleDict {
  const s = structuredClone(prev);
  for (const r of counterRecords(s)) {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number') r[k] = v + Math.floor(rand() ** 4 * 1e6);
  }
  if (s.meminfo && typeof s.meminfo.MemTotal === 'number') s.meminfo.MemAvailable = Math.floor(rand() * s.meminfo.MemTotal);
  const records = counterRecords(s);
  if (rand() < 0.08 && records.length > 0) {
    // A counter reset (or wrap): it goes back.
    const r = pick(rand, records);
    const k = pick(rand, Object.keys(r).filter((key) => typeof r[key] === 'number'));
    if (k) r[k] = Math.floor((r[k] as number) * rand() * 0.5);
  }
  if (rand() < 0.03 && s.stat) s.stat.btime = Number(s.stat.btime) + 1 + Math.floor(rand() * 1000);
  return s;
}

/**
 * What is stored of a state: with some chance a disk, an interface, a CPU, a key or a whole
 * section missing (back in the next sample); `fieldGaps`, a single field of a disk too.
 */
function view(state: SampleDict, rand: Rand, fieldGaps: boolean): SampleDict {
  const s = structuredClone(state);
  const drop = <T>(list: T[] | undefined): T[] | undefined => (list && list.length > 0 ? list.filter((_e, i) => i !== Math.floor(rand() * list.length)) : list);
  if (rand() < 0.05) s.diskstats = drop(s.diskstats);
  if (rand() < 0.05) s.netdev = drop(s.netdev);
  if (rand() < 0.04 && s.stat) delete s.stat.cpus[pick(rand, Object.keys(s.stat.cpus))];
  if (rand() < 0.04 && s.meminfo) delete s.meminfo[pick(rand, ['MemTotal', 'MemAvailable'])];
  if (rand() < 0.04 && s.vmstat) delete s.vmstat[pick(rand, ['pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'pswpin', 'pswpout'])];
  for (const section of ['stat', 'diskstats', 'netdev', 'meminfo', 'vmstat'] as const) if (rand() < 0.02) delete s[section];
  if (fieldGaps && rand() < 0.04 && s.diskstats?.length) {
    const d = pick(rand, s.diskstats) as unknown as Record<string, unknown>;
    delete d[pick(rand, Object.keys(DISKSTATS_KEYS))];
  }
  return s;
}
const DISKSTATS_KEYS = Object.fromEntries(Object.values(DISK_FORMULAS).flatMap((f) => f.inputs).map((k) => [k, true]));

/**
 * `n` samples from a random real one. `steps`: whether the wall clock may stand still or step
 * back (never through the store, which keeps samples in time order).
 */
function sampleSet(rand: Rand, n: number, startMs: number, steps: boolean): SampleDict[] {
  let state = structuredClone(pick(rand, real));
  let ns = startMs * 1e6;
  const out: SampleDict[] = [];
  for (let i = 0; i < n; i++) {
    const s = view(state, rand, steps);
    s.timestamp_ns = ns;
    s.timestamp = isoSeconds(ns / 1e6);
    out.push(s);
    state = evolve(state, rand);
    const u = rand();
    if (steps && u < 0.05) ns += 0;
    else if (steps && u < 0.1) ns -= Math.floor(rand() * 3e9);
    else ns += 1e9 + Math.floor((rand() - 0.5) * 2e8);
  }
  return out;
}

/** Rate paths: every field of every section, on the samples' devices, interfaces and CPUs, and some none has. */
function ratePaths(rand: Rand, s: SampleDict, count: number): string[] {
  const disks = [...(s.diskstats ?? []).map((d) => d.device_name), 'nodisk'];
  const nets = [...(s.netdev ?? []).map((d) => d.interface_name), 'nonet'];
  const cpus = ['all', ...Object.keys(s.stat?.cpus ?? {}), 'cpu999'];
  const fields = (f: object): string[] => [...Object.keys(f), 'bogus'];
  const all = [
    ...disks.flatMap((d) => fields(DISK_FORMULAS).map((f) => `rates.disk.${d}.${f}`)),
    ...nets.flatMap((n) => fields(NET_FORMULAS).map((f) => `rates.net.${n}.${f}`)),
    ...cpus.flatMap((c) => fields(CPU_FORMULAS).map((f) => `rates.cpu.${c}.${f}`)),
    ...fields(VM_FORMULAS).map((f) => `rates.vm.${f}`),
    ...fields(MEM_FORMULAS).map((f) => `rates.mem.${f}`),
  ];
  return Array.from({ length: count }, () => pick(rand, all));
}

/** The table `store.table` gives of these samples (serve-store.spec holds it equal to `valueAt`). */
function tableOf(samples: readonly SampleDict[], paths: readonly string[]): Table {
  return {
    timesNs: samples.map((s) => s.timestamp_ns!),
    columns: paths.map((p) => Float64Array.from(samples, (s) => valueAt(s, p) ?? NaN)),
  };
}

/** `series()` with the wall time of each value. */
function general(samples: readonly SampleDict[], path: string): { timesNs: number[]; values: number[]; spanSeconds: number } {
  const at: number[] = [];
  const { values, spanSeconds } = series(samples, path, at);
  return { timesNs: at.map((i) => samples[i].timestamp_ns!), values, spanSeconds };
}

describe('serve: rates from columns equal series()', () => {
  it('over tables of random sample sets (resets, gaps, reboots, clock steps), every rate field', () => {
    expect(real.length).toBeGreaterThan(5);
    const rand = rng(14);
    let values = 0;
    let empty = 0;
    const kinds = new Set<string>();
    for (let c = 0; c < 200; c++) {
      const samples = sampleSet(rand, 2 + Math.floor(rand() * 60), Date.UTC(2026, 0, 1) + c * 1e6, true);
      for (const path of ratePaths(rand, samples[0], 6)) {
        const recipe = rateRecipe(path);
        expect(recipe, path).toBeDefined();
        kinds.add(recipe!.kind);
        const got = rateSeries(tableOf(samples, recipe!.paths), recipe!);
        const want = general(samples, path);
        expect(got, `case ${c}: ${path}`).toEqual(want);
        values += want.values.length;
        if (want.values.length === 0) empty++;
      }
    }
    // The cases were not vacuous: many values, some paths with none, every kind of recipe.
    expect(values).toBeGreaterThan(10_000);
    expect(empty).toBeGreaterThan(50);
    expect([...kinds].sort()).toEqual(['delta', 'level', 'none']);
  });

  it('through the store, random windows: pathPoints equals series() of the window, decoded or as pushed', async () => {
    const rand = rng(41);
    const store = new SqliteStore(join(dir, 's'));
    const start = Date.UTC(2026, 0, 2);
    const sets: SampleDict[][] = [];
    for (let h = 0; h < 3; h++) {
      // Several chunks (128 samples each), their samples in several layouts (what is missing varies).
      const samples = sampleSet(rand, 200 + Math.floor(rand() * 200), start, false);
      for (let i = 0; i < samples.length;) {
        const n = 1 + Math.floor(rand() * 30);
        store.put(`h${h}`, samples.slice(i, i + n), { receivedMs: Date.now() });
        i += n;
      }
      sets.push(samples);
    }
    let values = 0;
    for (let c = 0; c < 40; c++) {
      const h = Math.floor(rand() * sets.length);
      const samples = sets[h];
      const t = (k: number): number => samples[Math.max(0, Math.min(samples.length - 1, k))].timestamp_ns!;
      const a = Math.floor(rand() * samples.length * 1.1) - 5;
      const b = a + Math.floor(rand() * samples.length);
      // Window ends on a sample, or between two.
      const fromNs = t(a) - (rand() < 0.5 ? 0 : 1e6);
      const toNs = t(b) + (rand() < 0.5 ? 0 : 1e6);
      const w = { fromNs: BigInt(fromNs), toNs: BigInt(toNs) };
      const pushed = samples.filter((s) => s.timestamp_ns! >= fromNs && s.timestamp_ns! <= toNs);
      const decoded = store.window(`h${h}`, w.fromNs, w.toNs);
      for (const path of ratePaths(rand, samples[0], 5)) {
        const got = await pathPoints(store, `h${h}`, w, path);
        expect(got, `${path} ${fromNs}..${toNs}`).toEqual(general(decoded, path));
        expect(got, `${path} ${fromNs}..${toNs}`).toEqual(general(pushed, path));
        values += got.values.length;
      }
    }
    expect(values).toBeGreaterThan(5_000);
    store.close();
  });
});
