/**
 * One remote host's samples: its frames → samples through a native ProcParser kept per host,
 * which also keeps them compactly (the core's series, the same encoding as the local sampler's)
 * under the collector's bound. The parser keeps names interned between frames and sends a
 * layout only when a disk, interface or key set changes; samples become objects only when a
 * live consumer or `history()` asks.
 */
import { binding, call, type NativeBatch, type RawProcParser } from '../native/binding.js';
import { decodeBatch, LayoutCache } from '../native/decode.js';
import type { OverflowPolicy } from '../types/collector.js';
import type { CmdlinePolicy } from '../types/native.js';
import type { Metric, SampleDict } from '../types/sample.js';
import type { SampleFrame } from './frames.js';
import type { RemoteWatchPlan } from './script.js';

export interface AssembledFrame {
  batch: NativeBatch;
  /** Every section failed: the sample holds only errors. */
  hasData: boolean;
}

export class FrameAssembler {
  private readonly parser: RawProcParser;
  private readonly layouts = new LayoutCache();
  /** Samples parsed: every batch carries its sample's sequence number, so no crossing to ask. */
  private parsed = 0;

  /** `metrics`: the sections the remote loop sends; `host`: the samples' key. */
  constructor(
    private readonly metrics: readonly Metric[],
    private readonly host: string,
    keep: { maxSamples: number; overflow: OverflowPolicy; historySeconds: number },
    /** Processes of the host to watch (`name:`, `pid:`, `cmd:`); the core refuses others, naming them. */
    watch?: readonly string[],
    /** What of their command lines is recorded (default `redacted`). */
    cmdline?: CmdlinePolicy,
  ) {
    this.parser = call(() => new (binding().ProcParser)({
      retainSamples: keep.maxSamples, overflow: keep.overflow, retainSeconds: keep.historySeconds, ...(watch ? { watch: [...watch] } : {}),
      ...(cmdline ? { cmdline } : {}),
    }));
  }

  /** What the remote loop picks by itself (undefined: no process is watched). */
  watchPlan(): RemoteWatchPlan | undefined {
    return this.parser.watchPlan() ?? undefined;
  }

  /** What the next tick line asks the remote loop for ('' when nothing). */
  request(): string {
    return this.parser.watchRequest();
  }

  /** A frame's sample; `extra` errors (a reboot) are kept with it. */
  assemble(frame: SampleFrame, wallNs: bigint, monoNs: bigint, extra?: Record<string, string>): AssembledFrame {
    const errors: { source: string; message: string }[] = [];
    const texts = this.metrics.map((m) => {
      const text = frame.sections[m];
      if (text === undefined) {
        errors.push({ source: m, message: frame.missing.includes(m) ? `cannot read ${m} on the remote host` : `${m} missing from the frame` });
        return null;
      }
      return text;
    });
    const hasData = errors.length < this.metrics.length;
    for (const [source, message] of Object.entries(extra ?? {})) errors.push({ source, message });
    return { batch: this.parse([...this.metrics], texts, wallNs, monoNs, errors, frame), hasData };
  }

  /** A sample with no values, its errors saying why. */
  empty(wallNs: bigint, monoNs: bigint, errors: Record<string, string>): AssembledFrame {
    const list = Object.entries(errors).map(([source, message]) => ({ source, message }));
    return { batch: this.parse([], [], wallNs, monoNs, list), hasData: false };
  }

  private parse(metrics: string[], texts: (Buffer | null)[], wallNs: bigint, monoNs: bigint, errors: { source: string; message: string }[], frame?: SampleFrame): NativeBatch {
    const batch = this.parser.parse(metrics, texts, wallNs, monoNs, errors.length > 0 ? errors : undefined, frame?.procs);
    // A layout crosses once: keep it whether or not this sample is decoded now.
    this.layouts.add(batch.layouts);
    this.parsed = batch.seqs[0] + 1;
    return batch;
  }

  /** The sample of a batch `assemble` or `empty` gave. */
  decode(batch: NativeBatch): SampleDict {
    return decodeBatch(batch, this.host, this.layouts).samples[0];
  }

  /** The samples kept (within the bound), oldest first. */
  history(): SampleDict[] {
    return decodeBatch(this.parser.history(0), this.host, this.layouts).samples;
  }

  /** Samples taken, kept or not. */
  get taken(): number {
    return this.parsed;
  }
}
