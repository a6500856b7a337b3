/**
 * `--from` / `--to`: a time as ISO 8601 (`2025-01-01T12:00:05Z`), a time of day on the run's
 * first day (`12:00:05`, UTC), or an offset from the run's start (`30`, `+30s`, `2m`).
 */
import { InvalidOptionError } from '../errors.js';
import type { TimeWindow } from './intervals.js';

const UNIT: Record<string, number> = { '': 1, ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };

/** ns since the epoch for `text`, relative to a run that started at `startNs`. */
export function parseTimeBound(text: string, flag: string, startNs: number): number {
  const rel = /^\s*\+?([0-9]*\.?[0-9]+)\s*(ms|s|m|min|h)?\s*$/i.exec(text);
  if (rel) return startNs + Number(rel[1]) * UNIT[(rel[2] ?? '').toLowerCase()] * 1e9;
  const tod = /^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*$/.exec(text);
  if (tod) {
    const day = new Date(Math.floor(startNs / 1e6)).toISOString().slice(0, 10);
    const ms = Date.parse(`${day}T00:00:00Z`) + (Number(tod[1]) * 3600 + Number(tod[2]) * 60 + Number(tod[3] ?? 0)) * 1000;
    if (Number.isFinite(ms)) return ms * 1e6;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const ms = Date.parse(text.trim());
    if (Number.isFinite(ms)) return ms * 1e6;
  }
  throw new InvalidOptionError(`${flag} ${JSON.stringify(text)}: expected a time (2025-01-01T12:00:05Z, or 12:00:05 UTC) or an offset from the run's start (30s, 2m)`);
}

export function timeWindow(o: { from?: string; to?: string }, startNs: number): TimeWindow {
  const w: TimeWindow = {};
  if (o.from !== undefined) w.fromNs = parseTimeBound(o.from, '--from', startNs);
  if (o.to !== undefined) w.toNs = parseTimeBound(o.to, '--to', startNs);
  if (w.fromNs !== undefined && w.toNs !== undefined && w.toNs < w.fromNs) {
    throw new InvalidOptionError(`--to ${JSON.stringify(o.to)} is before --from ${JSON.stringify(o.from)}`);
  }
  return w;
}
