/**
 * A compact push (lib/push/blob-body.ts: layouts + the core's sample blob) → the store, checked
 * as a JSON push is, never trusted: what is stored is what the same samples pushed as JSON Lines
 * would store, and a sample JSON would reject is rejected with the same reason.
 *
 * - The body as a whole (400 naming what is wrong): the layouts (each field's type), the blob
 *   (the core's decoder: cut short, bad varints, bytes left over; its values bounded, 413), every
 *   sample's layout given and its number of values that layout's, and each layout exactly the one
 *   its samples' dicts have (`layoutOf`), so names and shape are what JSON would have stored.
 * - Per layout, its first sample that passes is decoded and checked in full
 *   (`TimeSeriesSample.fromDict`, hostname and time): that checks every name of the layout.
 * - Every other sample: only its values can differ, so only those that can be wrong are read from
 *   the columns (loadavg floats ≥ 0 and finite, its process counts safe integers, app gauges
 *   finite, the time in range and a whole second without `timestamp_ns`); a sample with errors or
 *   extras, or failing that, is decoded and checked in full (its reason is then JSON's).
 */
import { InvalidDataError } from '../errors.js';
import { binding, type NativeBatch, type NativeLayout, type NativeProc } from '../native/binding.js';
import { decodeOne, layoutInfo, type LayoutInfo } from '../native/decode.js';
import { layoutOf, shapeKey, type Columns, type StoredLayout } from '../native/encode.js';
import { splitBlobBody } from '../push/blob-body.js';
import type { SampleDict } from '../types/sample.js';
import { array, count, fail, field, isRecord, join, record, string, stringList, type Key } from '../models/validate.js';
import { pick } from './store/columns.js';
import { type Grant } from './auth.js';
import { HttpError } from './body.js';
import { checkGrant, checkSample, NS_MAX, rejection, type Forward, type IngestReply, type Rejected } from './ingest.js';
import type { PushMeta, SampleStore } from './store/store.js';

const SECTIONS = ['diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat', 'processes', 'app'];
const DISK_FIELDS = [11, 15, 17];
const SAFE_HI = 0x200000;
const NS_PER_S = 1_000_000_000n;

function bool(v: unknown, path: string, key?: Key): boolean {
  if (typeof v !== 'boolean') fail(path, 'true or false', v, key);
  return v;
}

function u32(v: unknown, path: string, key?: Key): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(path, 'an integer from 0 to 2^32 - 1', v, key);
  return v;
}

function int(v: unknown, path: string, key?: Key): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, 'an integer', v, key);
  return v;
}

function list<T>(v: unknown, path: string, key: Key, each: (x: unknown, path: string, i: number) => T): T[] {
  const a = array(v, path, key);
  const at = join(path, key);
  return a.map((x, i) => each(x, at, i));
}

/** A process of a layout, in `procOf`'s key order (encode.ts), so that shapes compare as text. */
function proc(v: unknown, parent: string, i: number): NativeProc {
  const o = record(v, parent, i);
  const path = join(parent, i);
  const start = o.startTimeNs;
  if (typeof start !== 'string' || !/^\d{1,20}$/.test(start) || BigInt(start) >= 2n ** 64n) fail(path, 'a u64 as a string of digits', start, 'startTimeNs');
  const code = o.lastExitCode == null ? undefined : field(o, 'lastExitCode', path, int);
  const signal = o.lastExitSignal == null ? undefined : field(o, 'lastExitSignal', path, count);
  return {
    key: field(o, 'key', path, string), pid: field(o, 'pid', path, count), ppid: field(o, 'ppid', path, count),
    name: field(o, 'name', path, string), cmdline: field(o, 'cmdline', path, string), startTimeNs: BigInt(start),
    restarts: field(o, 'restarts', path, count), lastExitCode: code, lastExitSignal: signal, hasIo: field(o, 'hasIo', path, bool),
  };
}

/** One layout of the body, checked field by field, rebuilt in `layoutOf`'s key order. */
function storedLayout(v: unknown, parent: string, i: number): StoredLayout {
  const o = record(v, parent, i);
  const path = join(parent, i);
  const l = field(o, 'layout', path, record);
  const at = join(path, 'layout');
  const names = (k: string): string[] => field(l, k, at, stringList);
  const sections = names('sections');
  for (const [j, s] of sections.entries()) if (!SECTIONS.includes(s)) fail(join(at, 'sections'), `one of ${SECTIONS.join(', ')}`, s, j);
  const diskFields = list(l.diskFields, at, 'diskFields', (x, p, j) => {
    if (typeof x !== 'number' || !DISK_FIELDS.includes(x)) fail(p, '11, 15 or 17', x, j);
    return x;
  });
  const layout: NativeLayout = {
    id: field(l, 'id', at, u32),
    sections,
    disks: names('disks'),
    diskFields,
    vmstat: names('vmstat'),
    meminfo: names('meminfo'),
    net: names('net'),
    cpus: names('cpus'),
    procs: l.procs == null ? undefined : list(l.procs, at, 'procs', proc),
    app: names('app'),
    appGauge: list(l.appGauge, at, 'appGauge', bool),
  };
  if (layout.diskFields.length !== layout.disks.length) fail(at, `as many diskFields as disks (${layout.disks.length})`, layout.diskFields.length, 'diskFields');
  if (layout.appGauge.length !== layout.app.length) fail(at, `as many appGauge as app (${layout.app.length})`, layout.appGauge.length, 'appGauge');
  return { layout, hostname: field(o, 'hostname', path, string), ns: field(o, 'ns', path, bool) };
}

/** Where a layout's samples hold values that not every u64 is (positions within a sample). */
interface Slots {
  /** loadavg's load_1min, 5min, 15min. */
  nonNegative: number[];
  /** app gauges. */
  finite: number[];
  /** loadavg's running and total processes. */
  safe: number[];
}

function slotsOf(info: LayoutInfo): Slots {
  const out: Slots = { nonNegative: [], finite: [], safe: [] };
  let at = 0;
  for (const [name, size] of info.sizes) {
    if (name === 'loadavg') {
      out.nonNegative.push(at, at + 1, at + 2);
      out.safe.push(at + 3, at + 4);
    } else if (name === 'app') {
      info.l.appGauge.forEach((g, i) => g && out.finite.push(at + i));
    }
    at += size;
  }
  return out;
}

interface Pushed {
  stored: StoredLayout;
  info: LayoutInfo;
  slots: Slots;
  /** Set once a sample of it passed the full check. */
  confirmed: boolean;
}

/**
 * Layouts by the text that gave them, most recently used last: an agent sends the same text push
 * after push, and a layout one of its samples confirmed needs no sample decoded again (measured:
 * parsing, checking and confirming the layouts was ~40 µs of a pushed sample's time, pushes of 10).
 * A text is ~5 KB; the bound keeps this to a few hundred KB a host, for 8192 hosts at most.
 */
const known = new Map<string, Map<number, Pushed>>();
const KNOWN_MAX = 8192;

function layoutsOf(text: string): Map<number, Pushed> {
  const seen = known.get(text);
  if (seen) {
    known.delete(text);
    known.set(text, seen);
    return seen;
  }
  const parsed = parseLayouts(text);
  known.set(text, parsed);
  if (known.size > KNOWN_MAX) known.delete(known.keys().next().value!);
  return parsed;
}

function parseLayouts(text: string): Map<number, Pushed> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InvalidDataError('layouts', `not valid JSON: ${(e as Error).message}`);
  }
  const out = new Map<number, Pushed>();
  for (const stored of list(v, 'layouts', undefined, storedLayout)) {
    const id = stored.layout.id;
    if (out.has(id)) throw new InvalidDataError('layouts', `layout id ${id} is given twice`);
    const info = layoutInfo(stored.layout);
    out.set(id, { stored, info, slots: slotsOf(info), confirmed: false });
  }
  return out;
}

/** `decodeSampleBlob`'s error as the client's: 413 past the bound on values, else 400. */
function decode(blob: Buffer, maxValues: number): NativeBatch {
  try {
    return binding().decodeSampleBlob(blob, maxValues);
  } catch (e) {
    const m = (e as Error).message;
    if (m.includes(`more than ${maxValues} values`)) throw new HttpError(413, `the sample blob holds more than ${maxValues} values (the limit: the inflated body's limit / 8)`);
    throw new HttpError(400, `the body's sample blob is not valid: ${m}`);
  }
}

/**
 * Store a compact push: checked as the module's header says, grouped by host, the token's grant
 * checked for every host before anything is stored, then stored host by host (`putColumns`, or
 * `put` of the decoded dicts for a store without it).
 */
export async function ingestBlob(store: SampleStore, body: Buffer, grant: Grant, meta: PushMeta, maxValues: number, forward?: Forward): Promise<IngestReply> {
  let layouts: Map<number, Pushed>;
  let blob: Buffer;
  try {
    const parts = splitBlobBody(body);
    blob = parts.blob;
    layouts = layoutsOf(parts.layouts);
  } catch (e) {
    if (e instanceof InvalidDataError) throw new HttpError(400, e.message);
    throw e;
  }
  const b = decode(blob, maxValues);
  const n = b.layoutIds.length;
  for (let i = 0; i < n; i++) {
    const p = layouts.get(b.layoutIds[i]);
    if (!p) throw new HttpError(400, `sample ${i} has layout ${b.layoutIds[i]}, which the body's layouts do not give`);
    const values = b.offsets[i + 1] - b.offsets[i];
    if (values !== p.info.size) throw new HttpError(400, `sample ${i} has ${values} values; its layout ${b.layoutIds[i]} has ${p.info.size}`);
  }
  const special = new Set<number>();
  for (const e of b.errors) special.add(e.sample);
  for (const e of b.extras) special.add(e.sample);
  const wallNs = new BigUint64Array(b.wallNs);
  const floats = new Float64Array(b.values.buffer, b.values.byteOffset, b.values.length);
  const words = new Uint32Array(b.values.buffer, b.values.byteOffset, b.values.length * 2);

  /** Sample `i` as its dict (the layout's hostname; `timestamp_ns` only if the layout has it). */
  const dictOf = (i: number): SampleDict => {
    const p = layouts.get(b.layoutIds[i])!;
    const d = decodeOne(b, i, p.info, p.stored.hostname);
    d.timestamp_ns = Number(wallNs[i]);
    if (!p.stored.ns) delete d.timestamp_ns;
    for (const e of b.extras) {
      if (e.sample !== i) continue;
      let x: unknown;
      try {
        x = JSON.parse(e.json);
      } catch {
        throw new InvalidDataError('collectors', 'its extra JSON is not valid JSON');
      }
      if (!isRecord(x) || Object.keys(x).some((k) => k !== 'collectors')) throw new InvalidDataError('collectors', 'its extra JSON must be {"collectors": {...}}');
      if (x.collectors !== undefined) d.collectors = record(x.collectors, 'collectors');
    }
    for (const e of b.errors) if (e.sample === i) (d.errors ??= {})[e.source] = e.message;
    return d;
  };
  /** The values that not every u64 is, read in place. */
  const valuesOk = (p: Pushed, i: number): boolean => {
    const at = b.offsets[i];
    for (const k of p.slots.nonNegative) if (!(floats[at + k] >= 0 && floats[at + k] < Infinity)) return false;
    for (const k of p.slots.finite) if (!Number.isFinite(floats[at + k])) return false;
    for (const k of p.slots.safe) if (words[(at + k) * 2 + 1] >= SAFE_HI) return false;
    return true;
  };

  const rejected: Rejected[] = [];
  const byHost = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const p = layouts.get(b.layoutIds[i])!;
    try {
      const w = wallNs[i];
      if (w > NS_MAX) throw new InvalidDataError('timestamp_ns', `out of range (${w})`);
      if (p.stored.ns) {
        // The time JSON would carry (a double: exact to 256 ns), so that the same sample pushed
        // either way is one sample (same host and time), never two.
        wallNs[i] = BigInt(Number(w));
      } else if (w % NS_PER_S !== 0n) {
        throw new InvalidDataError('timestamp', `a sample without timestamp_ns is at a whole second; its time is ${w} ns`);
      }
      if (!p.confirmed || special.has(i) || !valuesOk(p, i)) {
        const d = checkSample(dictOf(i));
        if (!p.confirmed) {
          const want = shapeKey(layoutOf(d), d.hostname, d.timestamp_ns != null);
          if (want !== shapeKey(p.stored.layout, p.stored.hostname, p.stored.ns)) {
            throw new HttpError(400, `layout ${p.stored.layout.id} is not the layout of its samples (sample ${i}'s is ${want.slice(0, 300)}…)`);
          }
          p.confirmed = true;
        }
      }
    } catch (e) {
      if (!(e instanceof InvalidDataError)) throw e;
      rejected.push(rejection(i, e));
      continue;
    }
    let list = byHost.get(p.stored.hostname);
    if (!list) byHost.set(p.stored.hostname, (list = []));
    list.push(i);
  }
  checkGrant(grant, byHost.keys());

  const all: Columns = { layoutIds: b.layoutIds, wallNs, offsets: b.offsets, values: b.values, errors: b.errors, extras: b.extras };
  let accepted = 0;
  let duplicates = 0;
  for (const [host, kept] of byHost) {
    let dicts: SampleDict[] | undefined;
    const dictsOf = (): SampleDict[] => (dicts ??= kept.map(dictOf));
    let r;
    if (store.putColumns) {
      const columns = kept.length === n ? all : pick(all, kept);
      const used = new Set(columns.layoutIds);
      const stored = [...used].map((id) => layouts.get(id)!.stored);
      r = await Promise.resolve(store.putColumns(host, { columns, layouts: stored }, meta));
    } else {
      r = await Promise.resolve(store.put(host, dictsOf(), meta));
    }
    accepted += r.accepted;
    duplicates += r.duplicates;
    if (forward) {
      let lastNs = 0n;
      for (const i of kept) if (wallNs[i] > lastNs) lastNs = wallNs[i];
      forward({ host, samples: kept.length, lastNs, tags: meta.tags, dicts: dictsOf });
    }
  }
  return { accepted, duplicates, rejected };
}
