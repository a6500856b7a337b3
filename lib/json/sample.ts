/**
 * The writer for one sample dict, tuned for speed: it is called once per sample per host.
 *
 * The counter sections (diskstats, vmstat, meminfo, netdev, stat, errors) are plain integers and
 * ASCII names, for which V8's native `JSON.stringify` writes exactly the bytes Python writes; it is
 * used there and checked, and anything it cannot write the Python way (a bigint, a non-ASCII
 * character, a non-integral number, `null`) falls back to the general writer.
 */
import type { Loadavg, SampleDict } from '../types/sample.js';
import { pyFloatRepr } from './float.js';
import { pyQuote } from './string.js';
import { newline, numberText, stringifyJson } from './stringify.js';
import type { FloatSchema } from '../types/files.js';

/** A float (or an exponent) in `JSON.stringify` output: JS and Python may print it differently. */
const FLOAT_LIKE = /\d[.eE]/;

/**
 * True when `s`, written by `JSON.stringify`, is what Python writes: printable ASCII only (Python
 * escapes the rest; `JSON.stringify` already escapes control characters the same way), no
 * `null` (from NaN) and no float. False positives (`"veth1e2"`) only cost the slow path.
 */
function pythonCompatible(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length && !s.includes('\x7f') && !s.includes('null') && !FLOAT_LIKE.test(s);
}

const cuts: [number, number][][] = [];

/**
 * `JSON.stringify` indents from level 0; a value wrapped in `level` arrays comes out indented
 * for `level`, so V8 does the indentation and the wrapper is cut off.
 */
function stringifyAt(v: unknown, indent: number, level: number): string | undefined {
  const wrap = (x: unknown): unknown => {
    for (let i = 0; i < level; i++) x = [x];
    return x;
  };
  const s = JSON.stringify(wrap(v), null, indent);
  if (s === undefined || level === 0) return s;
  let cut = (cuts[indent] ??= [])[level];
  if (cut === undefined) {
    const probe = JSON.stringify(wrap(0), null, indent);
    cut = cuts[indent][level] = [probe.indexOf('0'), probe.length - probe.indexOf('0') - 1];
  }
  return s.slice(cut[0], s.length - cut[1]);
}

function counterBlock(v: unknown, indent: number | undefined, level: number): string {
  let s: string | undefined;
  try {
    s = indent === undefined ? JSON.stringify(v) : stringifyAt(v, indent, level);
  } catch {
    s = undefined; // a bigint
  }
  if (s === undefined || !pythonCompatible(s)) return stringifyJson(v, { indent, level });
  return s;
}

/** Counters and gauges: integral values as integers, others as floats (the native writer's rule too). */
const NO_FLOATS: FloatSchema = {};

const PROCESS_FLOATS: FloatSchema = { '*': { uptime_s: true, cpu_pct: true } };

const LOADAVG_FLOATS: FloatSchema = { load_1min: true, load_5min: true, load_15min: true };

function loadavgBlock(l: Loadavg, indent: number | undefined, level: number): string {
  if (typeof l.load_1min !== 'number' || typeof l.load_5min !== 'number' || typeof l.load_15min !== 'number' ||
    typeof l.running_processes !== 'number' || typeof l.total_processes !== 'number') {
    return stringifyJson(l, { indent, level, floats: LOADAVG_FLOATS });
  }
  const colon = indent === undefined ? ':' : ': ';
  const open = indent === undefined ? '' : newline(indent, level + 1);
  const sep = ',' + open;
  const close = indent === undefined ? '' : newline(indent, level);
  return '{' + open +
    '"load_1min"' + colon + pyFloatRepr(l.load_1min) + sep +
    '"load_5min"' + colon + pyFloatRepr(l.load_5min) + sep +
    '"load_15min"' + colon + pyFloatRepr(l.load_15min) + sep +
    '"running_processes"' + colon + numberText(l.running_processes) + sep +
    '"total_processes"' + colon + numberText(l.total_processes) + close + '}';
}

/**
 * One sample dict as JSON, keys in file order, absent (`undefined`/`null`) values left out.
 * `indent` as Python's; omit it for one line. `level` is the nesting level the sample sits at.
 */
export function stringifySample(d: SampleDict, indent?: number, level = 0): string {
  const colon = indent === undefined ? ':' : ': ';
  const open = indent === undefined ? '' : newline(indent, level + 1);
  const sep = ',' + open;
  const close = indent === undefined ? '' : newline(indent, level);
  const inner = level + 1;
  let out = '{' + open + '"timestamp"' + colon + pyQuote(d.timestamp);
  if (d.timestamp_ns != null) out += sep + '"timestamp_ns"' + colon + stringifyJson(d.timestamp_ns);
  out += sep + '"hostname"' + colon + pyQuote(d.hostname);
  if (d.diskstats != null) out += sep + '"diskstats"' + colon + counterBlock(d.diskstats, indent, inner);
  if (d.vmstat != null) out += sep + '"vmstat"' + colon + counterBlock(d.vmstat, indent, inner);
  if (d.meminfo != null) out += sep + '"meminfo"' + colon + counterBlock(d.meminfo, indent, inner);
  if (d.loadavg != null) out += sep + '"loadavg"' + colon + loadavgBlock(d.loadavg, indent, inner);
  if (d.netdev != null) out += sep + '"netdev"' + colon + counterBlock(d.netdev, indent, inner);
  if (d.stat != null) out += sep + '"stat"' + colon + counterBlock(d.stat, indent, inner);
  if (d.processes != null) out += sep + '"processes"' + colon + stringifyJson(d.processes, { indent, level: inner, floats: PROCESS_FLOATS });
  if (d.app != null) out += sep + '"app"' + colon + stringifyJson(d.app, { indent, level: inner, floats: NO_FLOATS });
  if (d.collectors != null) out += sep + '"collectors"' + colon + stringifyJson(d.collectors, { indent, level: inner });
  if (d.errors != null) out += sep + '"errors"' + colon + counterBlock(d.errors, indent, inner);
  return out + close + '}';
}
