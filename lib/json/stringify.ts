/**
 * A JSON writer that writes what Python's `json.dump(obj, f, indent=N)` writes (`ensure_ascii`,
 * separators `,` / `: `, `[]` / `{}` for empties, floats as `repr(float)`), and a compact one-line
 * form (separators `,` / `:`) for JSON Lines.
 *
 * JS has one number type, so the caller says where floats live with a `FloatSchema`: at those
 * positions a number is always written as a float (`1` → `1.0`). Elsewhere an integral number is
 * written as an integer and any other number as a float. A bigint is written as its exact digits.
 * Like `JSON.stringify`, `toJSON()` is honoured (but an object with `toDict()`, a model, is written
 * from that exact dict) and `undefined`/functions are left out of objects; a `JSON.rawJSON` value is
 * written as its text.
 */
import { InvalidDataError } from '../errors.js';
import { pyFloatRepr } from './float.js';
import { bigintFreeToJSON, isRawJson } from './json-safe.js';
import { pyQuote } from './string.js';
import type { FloatSchema, StringifyOptions } from '../types/files.js';

const MAX_DEPTH = 512;

const newlines: string[][] = [];

/** `'\n'` plus the indentation of `level` (cached: the same few strings are used all the time). */
export function newline(indent: number, level: number): string {
  const byLevel = (newlines[indent] ??= []);
  return (byLevel[level] ??= '\n' + ' '.repeat(indent * level));
}

/** An integer that is a JS number, written with all its digits (never in exponent form). */
function intText(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

/** A number with no schema telling its type: integral → integer, otherwise a Python float. */
export function numberText(x: number): string {
  return Number.isInteger(x) ? intText(x) : pyFloatRepr(x);
}

function child(schema: FloatSchema | undefined, key: string): FloatSchema | undefined {
  if (schema === undefined || schema === true) return undefined;
  return schema[key] ?? schema['*'];
}

function write(v: unknown, schema: FloatSchema | undefined, indent: number | undefined, level: number): string | undefined {
  if (level > MAX_DEPTH) throw new InvalidDataError('', 'value nested too deeply (or circular) to write as JSON');
  if (v !== null && typeof v === 'object') {
    if (isRawJson(v)) return v.rawJSON;
    const o = v as { toDict?: unknown; toJSON?: unknown };
    // The models' exact dict (their toJSON rounds big counters where JSON.rawJSON is missing);
    // the dicts' own bigint-free toJSON is skipped for the same reason.
    if (typeof o.toDict === 'function') v = (o.toDict as () => unknown).call(v);
    else if (typeof o.toJSON === 'function' && o.toJSON !== bigintFreeToJSON) v = (o.toJSON as () => unknown).call(v);
  }
  switch (typeof v) {
    case 'string':
      return pyQuote(v);
    case 'number':
      return schema === true ? pyFloatRepr(v) : numberText(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      return undefined; // undefined, function, symbol
  }
  if (v === null) return 'null';
  const sep = indent === undefined ? ',' : ',' + newline(indent, level + 1);
  const open = indent === undefined ? '' : newline(indent, level + 1);
  const close = indent === undefined ? '' : newline(indent, level);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const s = child(schema, '*');
    let out = '[' + open;
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += sep;
      out += write(v[i], s, indent, level + 1) ?? 'null';
    }
    return out + close + ']';
  }
  const colon = indent === undefined ? ':' : ': ';
  let out = '';
  const obj = v as Record<string, unknown>;
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const text = write(obj[key], child(schema, key), indent, level + 1);
    if (text === undefined) continue;
    out += (out === '' ? '{' + open : sep) + pyQuote(key) + colon + text;
  }
  return out === '' ? '{}' : out + close + '}';
}

/**
 * Where the mlpstorage format has floats, by key at any depth: without a schema from the caller,
 * `stringifyJson(data)` writes `"collection_interval_seconds": 10.0` and `"load_1min": 1.0` as
 * Python (and `writeTimeSeriesJson`) do, not `10` and `1`.
 */
const FORMAT_FLOATS: { [key: string]: FloatSchema } = Object.assign(Object.create(null) as { [key: string]: FloatSchema }, {
  collection_interval_seconds: true, load_1min: true, load_5min: true, load_15min: true,
} as const);
FORMAT_FLOATS['*'] = FORMAT_FLOATS; // any other key, at any depth (no prototype: a key `constructor` is just a key)

/**
 * Serialise `value` as Python's json module would (see the module comment). Without
 * `options.floats`, the format's float fields (interval, load averages) are written as floats.
 */
export function stringifyJson(value: unknown, options: StringifyOptions = {}): string {
  const text = write(value, options.floats ?? FORMAT_FLOATS, options.indent, options.level ?? 0);
  if (text === undefined) throw new InvalidDataError('', `cannot write ${typeof value} as JSON`);
  return text;
}
