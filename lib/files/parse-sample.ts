/**
 * Sample text → TimeSeriesSample, the hot path of both readers.
 *
 * `parseJson` scans the whole text for long integers, which costs ~40% of `JSON.parse` itself.
 * Here the text goes straight through `JSON.parse`. `timestamp_ns` is a number anyway (JSON.parse
 * rounds its digits to the same double the exact reader would), and no other integer beyond 2^53
 * can slip through rounded: every counter is checked to be a safe integer, so a rounded one fails
 * the check and the text is parsed again exactly (free-form `collectors` values are checked
 * separately). The result is the same as `fromDict(parseJson(text))`, faster.
 */
import { InvalidDataError } from '../errors.js';
import { parseJson } from '../json/parse.js';
import { isRecord } from '../models/validate.js';

function hasUnsafeNumber(v: unknown, depth = 0): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (v === null || typeof v !== 'object' || depth > 64) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (hasUnsafeNumber(x, depth + 1)) return true;
  return false;
}

/**
 * Parse `text` and build a value from it with `build` (which checks it, e.g. `fromDict`).
 * `sampleOf` finds the sample dict inside the parsed value (the value itself, or a JSONL record's
 * `sample`). Throws SyntaxError on invalid JSON, or what `build` throws on bad data.
 */
export function buildFromText<T>(text: string, sampleOf: (v: unknown) => unknown, build: (v: unknown) => T): T {
  const v: unknown = JSON.parse(text);
  const s = sampleOf(v);
  if (isRecord(s)) {
    try {
      const out = build(v);
      if (!hasUnsafeNumber(s.collectors)) return out;
    } catch (e) {
      if (!(e instanceof InvalidDataError)) throw e;
      // Maybe a rounded big counter: the exact parse below decides.
    }
  }
  return build(parseJson(text));
}
