/**
 * One host's frames → one-sample NativeBatches with that host's own layout ids, so remote
 * samples are stored by the same CompactSeries as local ones (well under 1 KiB a sample)
 * instead of as objects. Each section goes through the native parser (`parseProc`); the
 * sections' layouts are merged here and interned: a new layout id only when a disk, interface
 * or key set changes.
 */
import { binding, type NativeBatch, type NativeLayout } from '../native/binding.js';
import type { Metric } from '../types.js';
import type { SampleFrame } from './frames.js';

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameLayout(a: NativeLayout, b: NativeLayout): boolean {
  return (
    sameNames(a.sections, b.sections) &&
    sameNames(a.disks, b.disks) &&
    a.diskFields.length === b.diskFields.length &&
    a.diskFields.every((v, i) => v === b.diskFields[i]) &&
    sameNames(a.vmstat, b.vmstat) &&
    sameNames(a.meminfo, b.meminfo) &&
    sameNames(a.net, b.net) &&
    sameNames(a.cpus, b.cpus)
  );
}

export interface AssembledFrame {
  batch: NativeBatch;
  /** Layouts not handed out before (give them to the store before appending). */
  newLayouts: NativeLayout[];
  errors?: Record<string, string>;
}

export class FrameAssembler {
  private readonly layouts: NativeLayout[] = [];
  private nextId = 0;

  /** `metrics` in METRICS order: the order decodeSections reads values in. */
  constructor(private readonly metrics: readonly Metric[]) {}

  assemble(frame: SampleFrame, wallNs: bigint, monoNs: bigint): AssembledFrame {
    const merged: NativeLayout = { id: -1, sections: [], disks: [], diskFields: [], vmstat: [], meminfo: [], net: [], cpus: [] };
    const parts: BigUint64Array[] = [];
    let total = 0;
    let errors: Record<string, string> | undefined;
    let skipped = 0;
    for (const m of this.metrics) {
      const text = frame.sections[m];
      if (text === undefined) {
        (errors ??= {})[m] = frame.missing.includes(m) ? `cannot read ${m} on the remote host` : `${m} missing from the frame`;
        continue;
      }
      let b: NativeBatch;
      try {
        b = binding().parseProc(m, text);
      } catch (e) {
        (errors ??= {})[m] = (e as Error).message;
        continue;
      }
      const l = b.layouts[0];
      if (!l || b.layoutIds.length !== 1) continue;
      skipped += b.skippedLines;
      merged.sections.push(...l.sections);
      merged.disks.push(...l.disks);
      merged.diskFields.push(...l.diskFields);
      merged.vmstat.push(...l.vmstat);
      merged.meminfo.push(...l.meminfo);
      merged.net.push(...l.net);
      merged.cpus.push(...l.cpus);
      const v = b.values.subarray(b.offsets[0]!, b.offsets[1]!);
      parts.push(v);
      total += v.length;
    }
    const values = new BigUint64Array(total);
    let pos = 0;
    for (const p of parts) {
      values.set(p, pos);
      pos += p.length;
    }
    const newLayouts: NativeLayout[] = [];
    let layout = this.layouts.find((l) => sameLayout(l, merged));
    if (!layout) {
      layout = { ...merged, id: this.nextId++ };
      this.layouts.push(layout);
      // Keep the few most recent layouts; a host that flaps between two is still cheap.
      if (this.layouts.length > 8) this.layouts.shift();
      newLayouts.push(layout);
    }
    return { batch: oneSample(layout, wallNs, monoNs, values, skipped), newLayouts, errors };
  }

  /** A sample with no values (its slot's error says why), in a layout of its own. */
  empty(wallNs: bigint, monoNs: bigint): AssembledFrame {
    const merged: NativeLayout = { id: -1, sections: [], disks: [], diskFields: [], vmstat: [], meminfo: [], net: [], cpus: [] };
    const newLayouts: NativeLayout[] = [];
    let layout = this.layouts.find((l) => sameLayout(l, merged));
    if (!layout) {
      layout = { ...merged, id: this.nextId++ };
      this.layouts.push(layout);
      newLayouts.push(layout);
    }
    return { batch: oneSample(layout, wallNs, monoNs, new BigUint64Array(0), 0), newLayouts };
  }
}

function oneSample(layout: NativeLayout, wallNs: bigint, monoNs: bigint, values: BigUint64Array, skipped: number): NativeBatch {
  return {
    layouts: [layout],
    layoutIds: Uint32Array.of(layout.id),
    wallNs: BigUint64Array.of(wallNs),
    monoNs: BigUint64Array.of(monoNs),
    offsets: Uint32Array.of(0, values.length),
    values,
    errors: [],
    missedTicks: 0,
    dropped: 0,
    skippedLines: skipped,
  };
}
