/** Text formatting for terminal output: numbers, bytes, durations, aligned tables. */

/** A number with `digits` decimals and thousands separators; '-' when there is none. */
export function num(v: number | undefined, digits = 1): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Bytes in binary units: `1.5 GiB`. */
export function bytes(v: number | bigint): string {
  let x = Number(v);
  let u = 0;
  while (Math.abs(x) >= 1024 && u < UNITS.length - 1) {
    x /= 1024;
    u++;
  }
  return u === 0 ? `${x} B` : `${x.toFixed(1)} ${UNITS[u]}`;
}

/** Seconds as `1h02m03s`, `2m05s`, `12.5s`. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${Number(seconds.toFixed(seconds < 10 ? 2 : 1))}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  const ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}h${mm}m${ss}s` : `${mm}m${ss}s`;
}

/** Elapsed time for a status line: `00:01:23`. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

export type Align = 'left' | 'right';

/** Rows of cells as aligned columns (two spaces apart); `align` per column, default left. */
export function table(rows: readonly (readonly string[])[], align: readonly Align[] = []): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r.map((c, i) => {
      const w = widths[i] ?? 0;
      if (i === r.length - 1 && align[i] !== 'right') return c; // no trailing blanks
      return align[i] === 'right' ? c.padStart(w) : c.padEnd(w);
    }).join('  '),
  );
}

/** `1 sample`, `2 samples`. */
export const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
