/**
 * Checks used by the `fromDict` methods. Each takes the path of the value it checks, so an error
 * names the exact field: `samples_by_host.node1[3].diskstats[0].reads_completed: expected a
 * non-negative integer, got -1`.
 */
import { InvalidDataError } from '../errors.js';
import type { CollectionMethod, Counter } from '../types.js';

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

export function fail(path: string, expected: string, got: unknown): never {
  throw new InvalidDataError(path, `expected ${expected}, got ${describe(got)}`);
}

/** `o[k] = v`, also for a key named `__proto__` (which plain assignment would not store). */
export function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function record(v: unknown, path: string): Record<string, unknown> {
  if (!isRecord(v)) fail(path, 'an object', v);
  return v;
}

export function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array', v);
  return v;
}

/** The value of a required key. */
export function required(d: Record<string, unknown>, key: string, path: string): unknown {
  const v = d[key];
  if (v === undefined || v === null || !Object.prototype.hasOwnProperty.call(d, key)) {
    throw new InvalidDataError(keyPath(path, key), 'required field is missing');
  }
  return v;
}

export function string(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'a string', v);
  return v;
}

export function stringList(v: unknown, path: string): string[] {
  const a = array(v, path);
  for (let i = 0; i < a.length; i++) string(a[i], indexPath(path, i));
  return a as string[];
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 time as the reference writes it (`2026-01-24T12:00:00Z`); `''` too if `allowEmpty`. */
export function timestamp(v: unknown, path: string, allowEmpty = false): string {
  if (typeof v !== 'string' || !(ISO_UTC.test(v) || (allowEmpty && v === ''))) {
    fail(path, 'an ISO 8601 UTC time like "2026-01-24T12:00:00Z"', v);
  }
  return v;
}

const METHODS: readonly string[] = ['local', 'ssh'] satisfies readonly CollectionMethod[];

export function collectionMethod(v: unknown, path: string): CollectionMethod {
  if (typeof v !== 'string' || !METHODS.includes(v)) fail(path, `one of ${METHODS.map((m) => `"${m}"`).join(', ')}`, v);
  return v as CollectionMethod;
}

/** A u64 counter: a number up to 2^53 - 1, a bigint above (a small bigint becomes a number). */
export function counter(v: unknown, path: string): Counter {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    if (Number.isInteger(v) && v > 0) fail(path, 'a non-negative integer (a bigint beyond 2^53 - 1)', v);
  } else if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) {
    return v <= SAFE ? Number(v) : v;
  }
  return fail(path, 'a non-negative integer', v);
}

/** A non-negative integer that fits a JS number (counts, process numbers). */
export function count(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= SAFE) return Number(v);
  return fail(path, 'a non-negative integer', v);
}

/** A finite, non-negative float (load averages, intervals). */
export function nonNegativeFloat(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(path, 'a non-negative number', v);
  return v;
}

/**
 * A dict of counters (vmstat, meminfo), checked in place. The object is returned as is unless a
 * value had to be normalised (a small bigint), in which case a copy is returned.
 */
export function counterDict(v: unknown, path: string): Record<string, Counter> {
  const d = record(v, path);
  let out: Record<string, Counter> | undefined;
  for (const k in d) {
    const x = d[k];
    if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) continue;
    const c = counter(x, keyPath(path, k));
    if (c !== x) setOwn((out ??= { ...(d as Record<string, Counter>) }), k, c);
  }
  return out ?? (d as Record<string, Counter>);
}

export function stringDict(v: unknown, path: string): Record<string, string> {
  const d = record(v, path);
  for (const k in d) string(d[k], keyPath(path, k));
  return d as Record<string, string>;
}

/** An optional field: `undefined` when absent or null (the reference never writes null). */
export function optional<T>(d: Record<string, unknown>, key: string, path: string, check: (v: unknown, path: string) => T): T | undefined {
  const v = d[key];
  return v === undefined || v === null ? undefined : check(v, keyPath(path, key));
}
