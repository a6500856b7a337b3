/**
 * Sample text → TimeSeriesSample, the hot path of both readers.
 *
 * `parseJson` scans the whole text for long integers, which costs ~40% of `JSON.parse` itself.
 * Here the text goes straight through `JSON.parse`; the one long integer every sample has,
 * `timestamp_ns`, is read exactly from its (single) place in the text; and any other integer
 * beyond 2^53 cannot slip through rounded: every counter is checked to be a safe integer, so a
 * rounded one fails the check and the text is parsed again exactly (free-form `collectors` values
 * are checked separately). The result is the same as `fromDict(parseJson(text))`, faster.
 */
import { InvalidDataError } from '../errors.js';
import { parseJson } from '../json/parse.js';
import { integerValue } from '../json/tokenizer.js';
import { isRecord } from '../models/validate.js';

const KEY = '"timestamp_ns"';
const VALUE = /"timestamp_ns"[ \t\r\n]*:[ \t\r\n]*(\d+)[ \t\r\n]*[,}]/y;

/** Put the exact `timestamp_ns` into `d`. False when that cannot be done safely. */
function exactTimestampNs(d: Record<string, unknown>, text: string): boolean {
  const v = d.timestamp_ns;
  if (typeof v !== 'number' || Number.isSafeInteger(v)) return true;
  const at = text.indexOf(KEY);
  if (at === -1 || text.indexOf(KEY, at + 1) !== -1) return false; // escaped, or also nested: not sure which
  VALUE.lastIndex = at;
  const m = VALUE.exec(text);
  if (m === null) return false;
  d.timestamp_ns = integerValue(m[1]);
  return true;
}

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
  if (isRecord(s) && exactTimestampNs(s, text)) {
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
