/**
 * JSON reader that keeps integers above 2^53 exact (as bigint), at close to `JSON.parse` speed.
 *
 * Node 20 has no access to a number's source text in `JSON.parse`, so: integer literals of 16+
 * digits outside strings (the only ones that can be inexact; in a sample usually just
 * `timestamp_ns`) are found with a native regex, turned into marked strings, the text goes through
 * `JSON.parse`, and the marked strings are turned back into exact integers. Everything else is
 * `JSON.parse`'s own work.
 */
import { integerValue, parseJsonExact } from './tokenizer.js';

// A non-digit then 16 digits: linear time (a bare /\d{16,}/ retries inside every digit run).
const LONG_DIGITS = /\D\d{16}/g;
const LEADING_LONG = /^\s*-?\d{16}/;

function digitsEnd(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
  return i;
}

/** Index of the quote closing the string that opens at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q === -1) return -1;
    let k = q - 1;
    while (text.charCodeAt(k) === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    from = q + 1;
  }
}

function isBoundary(c: number): boolean {
  // What may precede a value: start, `[`, `,`, `:` or whitespace.
  return Number.isNaN(c) || c === 0x5b || c === 0x2c || c === 0x3a || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** [start, end) of each long integer literal outside strings, flattened (`first`: the first match). */
function longIntegers(text: string, first: RegExpExecArray): number[] {
  const spans: number[] = [];
  let pos = 0; // a position known to be outside any string
  let m: RegExpExecArray | null = first;
  while (m !== null) {
    let start = m.index + 1;
    const end = digitsEnd(text, start + 16);
    let inString = false;
    for (;;) {
      const q = text.indexOf('"', pos);
      if (q === -1 || q > start) break;
      const close = closingQuote(text, q);
      if (close === -1 || close > start) {
        inString = true;
        pos = close === -1 ? text.length : close + 1;
        break;
      }
      pos = close + 1;
    }
    if (!inString) {
      if (text.charCodeAt(start - 1) === 0x2d) start--;
      const after = text.charCodeAt(end);
      const leadingZero = text.charCodeAt(start) === 0x30 || (text.charCodeAt(start) === 0x2d && text.charCodeAt(start + 1) === 0x30);
      // Part of a float (`1.234…`, `…e5`) or not valid JSON: leave it to JSON.parse.
      if (isBoundary(text.charCodeAt(start - 1)) && after !== 0x2e && after !== 0x65 && after !== 0x45 && !leadingZero) {
        spans.push(start, end);
      }
    }
    LONG_DIGITS.lastIndex = Math.max(end, pos);
    m = LONG_DIGITS.exec(text);
  }
  return spans;
}

/** A control character whose `\u00XX` escape does not occur in `text`, to mark replaced literals. */
function freeMarker(text: string): string | undefined {
  for (let c = 0; c < 0x20; c++) {
    const hex = c.toString(16).padStart(2, '0');
    if (!text.includes('\\u00' + hex) && !text.includes('\\u00' + hex.toUpperCase())) return String.fromCharCode(c);
  }
  return undefined;
}

function restore(v: unknown, marker: number, left: { n: number }): unknown {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== marker) return v;
    left.n--;
    return integerValue(v.slice(1));
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && left.n > 0; i++) {
      const e: unknown = v[i];
      if (typeof e === 'object' || typeof e === 'string') v[i] = restore(e, marker, left);
    }
  } else {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      if (left.n === 0) break;
      const e = o[k];
      if (typeof e === 'object' || typeof e === 'string') o[k] = restore(e, marker, left);
    }
  }
  return v;
}

/**
 * Parse JSON text. Integers are numbers when exact and bigints beyond ±(2^53 - 1); floats are
 * numbers. Throws SyntaxError on invalid input, like `JSON.parse`.
 */
export function parseJson(text: string): unknown {
  LONG_DIGITS.lastIndex = 0;
  const first = LONG_DIGITS.exec(text);
  if (first === null) return LEADING_LONG.test(text) ? parseJsonExact(text) : JSON.parse(text);
  const spans = longIntegers(text, first);
  if (spans.length === 0) return LEADING_LONG.test(text) ? parseJsonExact(text) : JSON.parse(text);
  const marker = freeMarker(text);
  if (marker === undefined) return parseJsonExact(text);
  const escaped = '"\\u00' + marker.charCodeAt(0).toString(16).padStart(2, '0');
  let marked = '';
  let from = 0;
  for (let i = 0; i < spans.length; i += 2) {
    marked += text.slice(from, spans[i]) + escaped + text.slice(spans[i], spans[i + 1]) + '"';
    from = spans[i + 1]!;
  }
  marked += text.slice(from);
  return restore(JSON.parse(marked), marker.charCodeAt(0), { n: spans.length / 2 });
}
