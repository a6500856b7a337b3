/**
 * Rows of the interval views: one per interval and section (per device, interface or process
 * where the section has several), each value the rate as `computeRates` gives it.
 */
import { countedInterface, wholeDisks } from '../cli/view/devices.js';
import { SECTION_DEFS, type Section } from './columns.js';
import type { Interval } from './intervals.js';

export interface Selection {
  sections: readonly Section[];
  /** Devices to show; undefined: the physical disks (as summary's totals count them). */
  disks?: readonly string[];
  /** Interfaces to show; undefined: every one but lo. */
  nets?: readonly string[];
}

export interface IntervalRow {
  host: string;
  section: Section;
  /** Device, interface or process key; '' for cpu and mem. */
  entity: string;
  endNs: number;
  elapsedSeconds: number;
  intervalSeconds: number;
  /** In the order of SECTION_DEFS[section].columns; undefined where the rate is absent. */
  values: (number | undefined)[];
}

/** Names in first-seen order over the intervals. */
function namesOf(list: readonly Interval[], pick: (i: Interval) => Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const i of list) for (const n of pick(i)) seen.add(n);
  return [...seen];
}

/** The entities each section shows for these intervals. */
export function entitiesOf(list: readonly Interval[], sel: Selection): Record<Section, string[]> {
  const devices = namesOf(list, (i) => (i.cur.diskstats ?? []).map((d) => d.device_name));
  const ifaces = namesOf(list, (i) => (i.cur.netdev ?? []).map((n) => n.interface_name));
  return {
    cpu: [''],
    mem: [''],
    disk: sel.disks ? devices.filter((d) => sel.disks!.includes(d)) : wholeDisks(devices),
    net: sel.nets ? ifaces.filter((n) => sel.nets!.includes(n)) : ifaces.filter(countedInterface),
    proc: namesOf(list, (i) => Object.keys(i.rates.proc)),
  };
}

/** Rows of one host, section by section, each section in time order. */
export function hostRows(host: string, list: readonly Interval[], sel: Selection): Map<Section, IntervalRow[]> {
  const entities = entitiesOf(list, sel);
  const out = new Map<Section, IntervalRow[]>();
  for (const section of sel.sections) {
    const def = SECTION_DEFS[section];
    const rows: IntervalRow[] = [];
    for (const i of list) {
      for (const e of entities[section]) {
        const values = def.columns.map((c) => c.get(i.rates, e));
        // A device or process that is not in both samples has no row for that interval.
        if (e !== '' && values.every((v) => v === undefined)) continue;
        rows.push({ host, section, entity: e, endNs: i.endNs, elapsedSeconds: i.elapsedSeconds, intervalSeconds: i.rates.intervalSeconds, values });
      }
    }
    out.set(section, rows);
  }
  return out;
}
