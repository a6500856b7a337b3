/**
 * Markers: labelled instants in a run (the wrapped command's start and end, `collector.mark()`,
 * `mark LABEL` lines on HOSTSERIES_MARK_FD), and the window between two of them that every view
 * can cut to (`--between start end`).
 */
import { InvalidOptionError } from '../errors.js';
import type { TimeWindow } from './intervals.js';
import type { Marker } from '../types/markers.js';

/**
 * The window from marker `from` to marker `to`: the first `from` (of `host`, or of no host),
 * then the first `to` at or after it. Throws an InvalidOptionError naming the label that is missing.
 */
export function markerWindow(markers: readonly Marker[], from: string, to: string, host?: string, file = 'the recording'): TimeWindow {
  const mine = markers.filter((m) => m.host === undefined || host === undefined || m.host === host);
  const labels = [...new Set(markers.map((m) => m.label))];
  const known = labels.length > 0 ? `its markers: ${labels.map((l) => JSON.stringify(l)).join(', ')}` : 'it has no markers';
  const a = mine.find((m) => m.label === from);
  if (!a) throw new InvalidOptionError(`--between: no marker ${JSON.stringify(from)}${host ? ` for host ${host}` : ''} in ${file} (${known})`);
  const b = mine.find((m) => m.label === to && m.timestamp_ns >= a.timestamp_ns);
  if (!b) throw new InvalidOptionError(`--between: no marker ${JSON.stringify(to)} at or after ${JSON.stringify(from)}${host ? ` for host ${host}` : ''} in ${file} (${known})`);
  return { fromNs: a.timestamp_ns, toNs: b.timestamp_ns };
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ` for a marker taken at `ns`. */
export function markerTimestamp(ns: number): string {
  return new Date(Math.floor(ns / 1e6)).toISOString();
}
