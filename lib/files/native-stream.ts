/**
 * The hand-off of a JSON Lines stream from its sink to the native sampler: the collector asks a
 * sink that can (a plain JsonlSink, also behind record's CappedSink) for its open descriptor,
 * and the sampler's writer thread appends every sample's line itself, with the same bytes and
 * guarantees (crates/core/src/jsonl/writer.rs), so no JS runs per sample. The sink keeps its
 * place: it wrote the header, it writes the footer, it reports the failure and keeps the
 * samples the disk would not take. Internal: not part of the public API.
 */
import { getSystemErrorMap } from 'node:util';

import type { SinkEntry } from '../types/sink.js';

export interface NativeStreamTarget {
  /** Open, positioned after the header. */
  fd: number;
  /** Bytes known good (the header). */
  goodBytes: number;
  fsyncIntervalMs: number;
  /** Samples past this many are neither written nor kept (`record --samples`). */
  maxSamples?: number;
}

export interface NativeStreamState {
  written: number;
  accepted: number;
  goodBytes: number;
  failure?: { errno: number; action: string; message: string };
}

/** What the collector gives the sink: the native writer's state, asked when needed. */
export interface NativeStreamLink {
  status(): NativeStreamState;
  /** Samples accepted and not written (after a failure). */
  unwritten(): SinkEntry[];
  /** Append a whole record line (a marker) after the samples so far; false once the writer takes nothing more. */
  appendLine(line: string): boolean;
}

export interface NativeStreamable {
  /** The descriptor and state to hand over, or undefined when this sink cannot (gzip, failed). */
  nativeTarget(): NativeStreamTarget | undefined;
  /** From now on the native writer appends the samples; `write` is not called. */
  adoptNative(link: NativeStreamLink): void;
  /** Called when the native side signals (a failure, the cap reached) and at times after. */
  nativeCheck(): void;
  /** The writer has ended (all written and synced): the sink may write its footer. */
  nativeEnded(): void;
}

export function nativeStreamable(sink: unknown): NativeStreamable | undefined {
  const s = sink as Partial<NativeStreamable> | undefined;
  return typeof s?.nativeTarget === 'function' && typeof s.adoptNative === 'function'
    && typeof s.nativeCheck === 'function' && typeof s.nativeEnded === 'function'
    ? s as NativeStreamable
    : undefined;
}

/** The native writer's failure as Node reports an I/O error (`ENOSPC: no space left on device, write`). */
export function nativeFailureError(f: { errno: number; action: string; message: string }): Error {
  // libuv's own name and text for the errno: the words Node's fs errors use.
  const known = f.errno === 0 ? undefined : getSystemErrorMap().get(-f.errno);
  if (!known) return new Error(f.message);
  const [code, text] = known;
  return Object.assign(new Error(`${code}: ${text}, ${f.action}`), { code, errno: -f.errno, syscall: f.action });
}
