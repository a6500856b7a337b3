/**
 * The time window a view shows: `--from`/`--to` (times or offsets from the run's start) and
 * `--between A B` (two markers), per host (a marker may belong to one host).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../exit.js';
import { markerWindow } from '../../views/markers.js';
import { timeWindow } from '../../views/window.js';
import type { TimeWindow } from '../../views/intervals.js';
import type { Loaded } from './load.js';
import type { Marker } from '../../types/markers.js';

export function betweenOption(c: Command): Command {
  return c.addOption(new Option('--between <labels...>', 'only the window between two markers: --between START END'));
}

/**
 * The file argument, and --between's two labels: `--between a b FILE` is read as users mean it
 * (commander's variadic option would take FILE as a third label).
 */
export function fileAndBetween(file: string | undefined, o: { between?: string[] }): string {
  if (o.between && file === undefined && o.between.length === 3) file = o.between.pop();
  if (o.between && o.between.length !== 2) throw new UsageError(`--between takes two marker labels (START END), got ${o.between.length}`);
  if (file === undefined) throw new UsageError("missing required argument 'file'");
  return file;
}

export function markersOf(l: Loaded): readonly Marker[] {
  return l.rec.data.markers ?? [];
}

/** The window for each host. */
export function viewWindow(o: { from?: string; to?: string; between?: string[] }, l: Loaded, hosts: readonly string[], startNs: number): (host: string) => TimeWindow {
  if (o.between && (o.from !== undefined || o.to !== undefined)) throw new UsageError('--between cannot be combined with --from/--to');
  const base = Number.isFinite(startNs) ? startNs : 0;
  const fixed = timeWindow(o, base);
  if (!o.between) return () => fixed;
  const [a, b] = o.between;
  const byHost = new Map(hosts.map((h) => [h, markerWindow(markersOf(l), a, b, h, l.name)]));
  return (h) => byHost.get(h) ?? {};
}
