/**
 * Checks used by the `fromDict` methods. Each takes the path of the value it checks, so an error
 * names the exact field: `samples_by_host.node1[3].diskstats[0].reads_completed: expected a
 * non-negative integer, got -1`. The path is given as parent path plus key and only joined when
 * a check fails (a sample has ~600 fields; building 600 path strings would cost more than the
 * checks).
 */
import { InvalidDataError } from '../errors.js';
import type { CollectionMethod, Counter } from '../types/sample.js';
import { setOwn } from '../json/own.js';

export const U64_MAX = 18446744073709551615n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** `path.key`, or `path["odd key"]` when the key is not a plain name. */
export function keyPath(path: string, key: string): string {
  if (/^[A-Za-z_][\w-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'object': return 'an object';
    case 'string': return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v);
    case 'bigint': return `${v}n`;
    case 'number': case 'boolean': return String(v);
    default: return typeof v;
  }
}

/** The key (or index) of a value inside its parent at `path`. */
export type Key = string | number | undefined;

export function join(path: string, key: Key): string {
  return key === undefined ? path : typeof key === 'number' ? indexPath(path, key) : keyPath(path, key);
}

export function fail(path: string, expected: string, got: unknown, key?: Key): never {
  throw new InvalidDataError(join(path, key), `expected ${expected}, got ${describe(got)}`);
}


export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function record(v: unknown, path: string, key?: Key): Record<string, unknown> {
  if (!isRecord(v)) fail(path, 'an object', v, key);
  return v;
}

export function array(v: unknown, path: string, key?: Key): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array', v, key);
  return v;
}

export function string(v: unknown, path: string, key?: Key): string {
  if (typeof v !== 'string') fail(path, 'a string', v, key);
  return v;
}

export function stringList(v: unknown, path: string, key?: Key): string[] {
  const a = array(v, path, key);
  const at = join(path, key);
  for (let i = 0; i < a.length; i++) string(a[i], at, i);
  return a as string[];
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 time as the reference writes it (`2026-01-24T12:00:00Z`); `''` too if `allowEmpty`. */
export function timestamp(v: unknown, path: string, key?: Key, allowEmpty = false): string {
  if (typeof v !== 'string' || !(ISO_UTC.test(v) || (allowEmpty && v === ''))) {
    fail(path, 'an ISO 8601 UTC time like "2026-01-24T12:00:00Z"', v, key);
  }
  return v;
}

/** `timestamp`, or `''` (the reference writes `''` for an unknown start or end). */
export function timestampOrEmpty(v: unknown, path: string, key?: Key): string {
  return timestamp(v, path, key, true);
}

// `unknown` is what mlpstorage's from_dict reads a missing collection_method as.
const METHODS: readonly string[] = ['local', 'ssh', 'unknown'] satisfies readonly CollectionMethod[];

export function collectionMethod(v: unknown, path: string, key?: Key): CollectionMethod {
  if (typeof v !== 'string' || !METHODS.includes(v)) fail(path, `one of ${METHODS.map((m) => `"${m}"`).join(', ')}`, v, key);
  return v as CollectionMethod;
}

/** A u64 counter: a number up to 2^53 - 1, a bigint above (a small bigint becomes a number). */
export function counter(v: unknown, path: string, key?: Key): Counter {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    if (Number.isInteger(v) && v > 0) fail(path, 'a non-negative integer (a bigint beyond 2^53 - 1)', v, key);
  } else if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) {
    return v <= SAFE ? Number(v) : v;
  }
  return fail(path, 'a non-negative integer', v, key);
}

/**
 * Nanoseconds since the epoch, as a number. Unlike a counter, it need not be exact: every current
 * time is above 2^53, and a double holds it to 256 ns, which matters nothing for a time. An exact
 * bigint (from an exact parse, or an older file) is rounded to the nearest double the same way
 * `JSON.parse` rounds the digits.
 */
export function epochNanos(v: unknown, path: string, key?: Key): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 64) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) return Number(v);
  return fail(path, 'a non-negative integer', v, key);
}

/** A non-negative integer that fits a JS number (counts, process numbers). */
export function count(v: unknown, path: string, key?: Key): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= SAFE) return Number(v);
  return fail(path, 'a non-negative integer', v, key);
}

/** A finite, non-negative float (load averages, intervals). */
export function nonNegativeFloat(v: unknown, path: string, key?: Key): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(path, 'a non-negative number', v, key);
  return v;
}

/**
 * A dict of counters (vmstat, meminfo), checked in place. The object is returned as is unless a
 * value had to be normalised (a small bigint), in which case a copy is returned.
 */
export function counterDict(v: unknown, path: string, key?: Key): Record<string, Counter> {
  const d = record(v, path, key);
  const at = join(path, key);
  let out: Record<string, Counter> | undefined;
  for (const k in d) {
    const x = d[k];
    if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) continue;
    const c = counter(x, at, k);
    if (c !== x) setOwn((out ??= { ...(d as Record<string, Counter>) }), k, c);
  }
  return out ?? (d as Record<string, Counter>);
}

export function stringDict(v: unknown, path: string, key?: Key): Record<string, string> {
  const d = record(v, path, key);
  const at = join(path, key);
  for (const k in d) string(d[k], at, k);
  return d as Record<string, string>;
}

export type Check<T> = (v: unknown, path: string, key?: Key) => T;

/** A required field of `d` (at `path`), checked. */
export function field<T>(d: Record<string, unknown>, key: string, path: string, check: Check<T>): T {
  const v = d[key];
  if (v === undefined || v === null) throw new InvalidDataError(keyPath(path, key), 'required field is missing');
  return check(v, path, key);
}

/** An optional field: `undefined` when absent or null (the reference never writes null). */
export function optional<T>(d: Record<string, unknown>, key: string, path: string, check: Check<T>): T | undefined {
  const v = d[key];
  return v === undefined || v === null ? undefined : check(v, path, key);
}
