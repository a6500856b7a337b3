/**
 * One host's frames → one-sample NativeBatches through a native ProcParser kept per host, so
 * remote samples are stored by the same CompactSeries as local ones. The parser keeps names
 * interned between frames and sends a layout only when a disk, interface or key set changes.
 */
import { binding, type NativeBatch, type RawProcParser } from '../native/binding.js';
import type { Metric } from '../types/sample.js';
import type { SampleFrame } from './frames.js';

export interface AssembledFrame {
  /** Carries a layout only when it is new: give `batch.layouts` to the store first. */
  batch: NativeBatch;
  errors?: Record<string, string>;
}

export class FrameAssembler {
  private readonly parser: RawProcParser = new (binding().ProcParser)();

  /** `metrics`: the sections the remote loop sends. */
  constructor(private readonly metrics: readonly Metric[]) {}

  assemble(frame: SampleFrame, wallNs: bigint, monoNs: bigint): AssembledFrame {
    let errors: Record<string, string> | undefined;
    const texts = this.metrics.map((m) => {
      const text = frame.sections[m];
      if (text === undefined) {
        (errors ??= {})[m] = frame.missing.includes(m) ? `cannot read ${m} on the remote host` : `${m} missing from the frame`;
        return null;
      }
      return text;
    });
    return { batch: this.parser.parse([...this.metrics], texts, wallNs, monoNs), errors };
  }

  /** A sample with no values (its slot's error says why). */
  empty(wallNs: bigint, monoNs: bigint): AssembledFrame {
    return { batch: this.parser.parse([], [], wallNs, monoNs) };
  }
}
