/** Markers in a recording (docs/FORMAT.md, "Markers"): checked when read, as every other field. */
import { InvalidOptionError } from '../errors.js';
import { array, epochNanos, field, indexPath, optional, record, string, timestamp } from './validate.js';
import type { Marker } from '../types/markers.js';

/** One marker dict, checked (errors name the field: `markers[2].label: expected a string`). */
export function markerFromDict(v: unknown, path: string): Marker {
  const d = record(v, path);
  const m: Marker = {
    label: field(d, 'label', path, string),
    timestamp: field(d, 'timestamp', path, timestamp),
    timestamp_ns: field(d, 'timestamp_ns', path, epochNanos),
  };
  const host = optional(d, 'host', path, string);
  if (host !== undefined) m.host = host;
  return m;
}

/** The `markers` list, checked, in time order (a stable sort: equal times keep their order). */
export function markerList(v: unknown, path: string): Marker[] {
  return array(v, path).map((m, i) => markerFromDict(m, indexPath(path, i))).sort((a, b) => a.timestamp_ns - b.timestamp_ns);
}

/** Longest label kept (a label is a name, not a log line). */
export const MAX_MARKER_LABEL = 200;

/**
 * A marker for now (wall clock, to the microsecond), or for `atNs`. Throws an InvalidOptionError
 * for a label that is not a non-empty single-line string of at most MAX_MARKER_LABEL characters.
 */
export function newMarker(label: unknown, host?: string, atNs?: number): Marker {
  if (typeof label !== 'string' || label.trim() === '' || /[\r\n]/.test(label) || label.length > MAX_MARKER_LABEL) {
    const got = typeof label === 'string' ? JSON.stringify(label.length > 40 ? label.slice(0, 40) + '…' : label) : typeof label;
    throw new InvalidOptionError(`mark: label must be a non-empty single line of at most ${MAX_MARKER_LABEL} characters, got ${got}`);
  }
  const ns = atNs ?? Math.round((performance.timeOrigin + performance.now()) * 1000) * 1000;
  const m: Marker = { label, timestamp: new Date(Math.floor(ns / 1e6)).toISOString(), timestamp_ns: ns };
  if (host !== undefined) m.host = host;
  return m;
}
