/** Parsers for option values; they throw commander's InvalidArgumentError, shown with usage (exit 2). */
import { InvalidArgumentError } from 'commander';
import { METRICS, type Metric } from '../types/sample.js';

const UNIT_SECONDS: Record<string, number> = { '': 1, ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };

/** `1.5`, `500ms`, `30s`, `10m`, `2h` → seconds, from `min` to `max` (NaN, negatives and Infinity never). */
export function seconds(min: number, max = Number.POSITIVE_INFINITY): (value: string) => number {
  return (value) => {
    const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(ms|s|m|min|h)?\s*$/i.exec(value);
    const v = m ? Number(m[1]) * UNIT_SECONDS[(m[2] ?? '').toLowerCase()] : NaN;
    if (!Number.isFinite(v)) throw new InvalidArgumentError('Expected a duration in seconds, such as 1, 0.5, 500ms, 30s, 10m or 2h.');
    if (v < min || v > max) {
      throw new InvalidArgumentError(max === Number.POSITIVE_INFINITY ? `Must be at least ${min} s.` : `Must be from ${min} s to ${max} s${max === 86_400 ? ' (one day)' : ''}.`);
    }
    return v;
  };
}

/** A size: bytes, or with a unit (k, M, G; KiB, MiB…; 1024s), at least `least` bytes (`zero`: 0 too). */
export function byteSize(least: number, { zero = false } = {}): (value: string) => number {
  const k = (n: number): string => (n % 1024 === 0 ? `${n / 1024}k` : `${n} bytes`);
  return (value) => {
    if (zero && value.trim() === '0') return 0;
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*$/i.exec(value);
    if (!m) throw new InvalidArgumentError(`Expected a size such as 16M or 1048576${zero ? ', or 0' : ''}.`);
    const n = Math.round(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
    if (n < least) throw new InvalidArgumentError(`A size of at least ${k(least)} is needed${zero ? ' (or 0)' : ''}.`);
    return n;
  };
}

export function positiveInt(value: string): number {
  if (!/^\s*[0-9]+\s*$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('Expected a whole number of at least 1.');
  }
  return Number(value);
}

/** `diskstats,meminfo` (repeatable) → metrics, each checked against the list the core reads. */
export function metricList(value: string, previous: Metric[] | undefined): Metric[] {
  const out = [...(previous ?? [])];
  for (const name of value.split(/[\s,]+/).filter(Boolean)) {
    if (!(METRICS as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`Unknown metric ${JSON.stringify(name)}; expected ${METRICS.join(', ')}.`);
    }
    if (!out.includes(name as Metric)) out.push(name as Metric);
  }
  if (out.length === 0) throw new InvalidArgumentError(`Expected one or more of ${METRICS.join(', ')}.`);
  return out;
}

/** For repeatable string options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A file name option: '' is refused (it names no file; '-' is stdout or stdin where documented). */
export function fileName(value: string): string {
  if (value === '') throw new InvalidArgumentError("Expected a file name (or '-'), not an empty string.");
  return value;
}
