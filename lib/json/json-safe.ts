/**
 * Values that `JSON.stringify` can take although they hold bigints (counters above 2^53).
 *
 * `bigintFree` copies only the parts of a value that hold a bigint and replaces each bigint: on
 * Node 22+ by `JSON.rawJSON(digits)`, so `JSON.stringify` writes the exact digits; on Node 20,
 * which has no `JSON.rawJSON`, by the nearest number (what `JSON.parse` would make of the digits
 * anyway). hostseries' own writers never go through it: they write every bigint exactly.
 */

import { setOwn } from './own.js';

interface RawJsonApi {
  rawJSON?: (text: string) => unknown;
  isRawJSON?: (v: unknown) => boolean;
}
const api = JSON as unknown as RawJsonApi;

/** True for a `JSON.rawJSON` object (never on a runtime without them). */
export function isRawJson(v: unknown): v is { readonly rawJSON: string } {
  return api.isRawJSON !== undefined && api.isRawJSON(v);
}


/** `v` with every bigint replaced (see the module comment); parts without one are shared, not copied. */
export function bigintFree(v: unknown, depth = 0): unknown {
  if (typeof v === 'bigint') return api.rawJSON ? api.rawJSON(v.toString()) : Number(v);
  if (v === null || typeof v !== 'object' || depth > 512 || isRawJson(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      const y = bigintFree(x, depth + 1);
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const x = o[k];
    const y = bigintFree(x, depth + 1);
    if (y === x) continue;
    if (out === undefined) {
      out = {};
      for (const c in o) if (Object.prototype.hasOwnProperty.call(o, c)) setOwn(out, c, o[c]);
    }
    setOwn(out, k, y);
  }
  return out ?? v;
}

/**
 * A `toJSON` for the models' dicts, so that `JSON.stringify(sample.toDict())` works with big
 * counters too. hostseries' writer skips it (it writes bigints exactly).
 */
export function bigintFreeToJSON(this: unknown): unknown {
  return bigintFree(this);
}

// The class of those dicts: its prototype carries `toJSON`, so no dict has it as an own key (an own
// non-enumerable property costs ~2 µs a dict). A class, not Object.create: V8 then gives the dicts
// in-object room for their keys, as it does for literals.
class SafeDict {}
Object.defineProperty(SafeDict.prototype, 'toJSON', { value: bigintFreeToJSON, enumerable: false, writable: false, configurable: false });

/** True for a dict made by `safeDict` (a plain dict but for its inherited `toJSON`). */
export function isSafeDict(v: unknown): boolean {
  return v instanceof SafeDict;
}

/** A new empty dict whose `toJSON` (inherited, not an own key) makes it safe for `JSON.stringify`. */
export function safeDict<T extends object>(): T {
  return new SafeDict() as T;
}
