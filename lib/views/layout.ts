/**
 * Terminal layout of the interval views: the width to fit, times as sar prints them, and tables
 * that wrap into several column groups (the key columns repeated) rather than run past the
 * terminal's edge or cut a column.
 */
import type { Align } from '../cli/view/format.js';

/** COLUMNS when set, else the terminal's width, else 80 (piped). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  if (stream.isTTY && typeof stream.columns === 'number' && stream.columns > 0) return stream.columns;
  return 80;
}

/** A fixed-decimals number, '-' when absent (no thousands separators: columns read as iostat's). */
export function fixed(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** `HH:MM:SS` (UTC), with `digits` decimals of the second for sub-second intervals. */
export function clockTime(ns: number, digits = 0): string {
  const iso = new Date(Math.round(ns / 1e6)).toISOString();
  if (digits <= 0) return iso.slice(11, 19);
  const frac = ((ns / 1e9) % 1).toFixed(digits).slice(1);
  // A fraction that rounds to 1.0 would print the second before; the ms-rounded ISO second is right then.
  return iso.slice(11, 19) + (frac.startsWith('1') ? '.' + '0'.repeat(digits) : frac);
}

/** Decimals the clock needs for intervals this short (0 at a second or more). */
export function clockDigits(minIntervalSeconds: number): number {
  if (!(minIntervalSeconds < 1)) return 0;
  return minIntervalSeconds >= 0.1 ? 1 : minIntervalSeconds >= 0.01 ? 2 : 3;
}

export interface GroupedTable {
  /** Headings of the key columns (time, host, device), repeated in every group. */
  keyHeads: readonly string[];
  valueHeads: readonly string[];
  /** Per row: key cells then value cells. */
  rows: readonly (readonly string[])[];
}

const GAP = 2;

/**
 * The table as lines no wider than `width`: value columns packed greedily into groups, each
 * group a table of its own (key columns first), groups separated by a blank line. Keys are
 * left-aligned, values right-aligned. A single column wider than the width goes alone.
 */
export function groupedTable(t: GroupedTable, width: number): string[] {
  const nk = t.keyHeads.length;
  const heads = [...t.keyHeads, ...t.valueHeads];
  const widths = heads.map((h) => h.length);
  for (const r of t.rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const keyWidth = widths.slice(0, nk).reduce((s, w) => s + w + GAP, 0);
  const groups: number[][] = [];
  let cur: number[] = [];
  let used = keyWidth;
  for (let i = nk; i < heads.length; i++) {
    const w = widths[i] + (cur.length > 0 || nk > 0 ? GAP : 0);
    if (cur.length > 0 && used + w - GAP > width) {
      groups.push(cur);
      cur = [];
      used = keyWidth;
    }
    cur.push(i);
    used += widths[i] + GAP;
  }
  if (cur.length > 0 || groups.length === 0) groups.push(cur);
  const out: string[] = [];
  groups.forEach((g, gi) => {
    if (gi > 0) out.push('');
    const cols = [...Array.from({ length: nk }, (_, i) => i), ...g];
    const align: Align[] = cols.map((c) => (c < nk ? 'left' : 'right'));
    const line = (cells: readonly string[]): string => cols.map((c, j) => {
      const text = cells[c] ?? '';
      return align[j] === 'right' ? text.padStart(widths[c]) : j === cols.length - 1 ? text : text.padEnd(widths[c]);
    }).join(' '.repeat(GAP));
    out.push(line(heads));
    for (const r of t.rows) out.push(line(r));
  });
  return out;
}
