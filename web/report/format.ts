/** Numbers, durations and clock times as the page shows them. */

/** A value as exact as the data holds it (6 significant digits), grouped: `1,234.57`, `0.0123457`. */
export function exact(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const p = Number(v.toPrecision(6));
  const digits = Math.max(0, Math.min(10, 5 - Math.floor(Math.log10(Math.abs(p)))));
  return p.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A table figure with `digits` decimals. */
export function fixed(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** An axis tick: short (`1.5k`, `250`, `0.25`). */
export function tick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  if (a >= 100 || a === 0) return `${Math.round(v)}`;
  if (a >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(2)}`;
}

/** Seconds since the start as a duration: `45 s`, `2m05s`, `1h02m`. */
export function elapsed(s: number): string {
  if (!Number.isFinite(s)) return '–';
  const neg = s < 0 ? '−' : '';
  s = Math.abs(s);
  if (s < 60) return `${neg}${+s.toFixed(s < 10 ? 1 : 0)} s`;
  const r = Math.round(s);
  const h = Math.floor(r / 3600);
  const m = Math.floor((r % 3600) / 60);
  const sec = r % 60;
  if (h > 0) return `${neg}${h}h${String(m).padStart(2, '0')}m${sec ? String(sec).padStart(2, '0') + 's' : ''}`;
  return `${neg}${m}m${String(sec).padStart(2, '0')}s`;
}

/** Clock time in UTC, as the recording's timestamps are: `14:02:11` (with tenths when asked). */
export function clock(ms: number, tenths = false): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  const base = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  return tenths ? `${base}.${Math.floor(d.getUTCMilliseconds() / 100)}` : base;
}

export function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
