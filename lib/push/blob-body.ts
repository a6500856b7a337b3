/**
 * The compact push body (`Content-Type: application/vnd.hostseries.blob`): a batch of samples in
 * the core's own sample blob (the encoding serve keeps in its chunks: a keyframe, then bitmaps of
 * changed values and varint deltas), with the layouts its samples use, so that serve checks and
 * stores them without JSON text or sample dicts (measured: JSON.parse, the check and the dicts
 * to columns were 178 µs of a pushed sample's ~365 µs of server CPU).
 *
 * ```text
 * "HSPB"  u32 LE n  n bytes: a JSON array of layouts, each {layout, hostname, ns} with
 *         layout.id the id its samples carry in the blob (lib/native/encode.ts StoredLayout)
 * the sample blob ("HSB1" …, crates/core/src/blob.rs) to the end of the body
 * ```
 *
 * Sample `i` of the blob is sample `i` of the push (a reply's rejected indices say which). JSON
 * Lines and JSON arrays stay the body every other client sends.
 */
import { isUtf8 } from 'node:buffer';
import { InvalidDataError } from '../errors.js';
import { binding } from '../native/binding.js';
import { isoSeconds } from '../native/decode.js';
import { layoutJson, toColumns, type Columns, type LayoutRegistry } from '../native/encode.js';
import type { SampleDict } from '../types/sample.js';

export const BLOB_CONTENT_TYPE = 'application/vnd.hostseries.blob';

const MAGIC = Buffer.from('HSPB', 'latin1');

/** The two parts of a compact body, not yet checked. */
export interface BlobBodyParts {
  /** The layouts, as JSON text. */
  layouts: string;
  /** The sample blob. */
  blob: Buffer;
}

/**
 * `dicts` (checked samples) as columns for a compact body; InvalidDataError for one it cannot
 * carry exactly. `registry` numbers their layouts (kept across pushes: a sample usually has the
 * previous one's layout, found without building anything).
 */
export function blobColumns(dicts: readonly SampleDict[], registry: LayoutRegistry): Columns {
  // The blob keeps a sample's time in ns only, and `timestamp` is made again from it: a sample
  // whose `timestamp` is not that time's whole second cannot go as a blob (JSON's reply says why).
  dicts.forEach((d, i) => {
    const ms = d.timestamp_ns != null ? Number(BigInt(d.timestamp_ns) / 1_000_000n) : Date.parse(d.timestamp);
    if (!(ms >= 0 && ms < 8.64e15) || isoSeconds(ms) !== d.timestamp) throw new InvalidDataError(`[${i}].timestamp`, `not the whole UTC second of the sample's time: ${JSON.stringify(d.timestamp)}`);
  });
  return toColumns(dicts, registry).columns;
}

/** Columns (`blobColumns`'s, their layouts in `registry`) as one compact body; `texts` keeps each layout's JSON by id, made once. */
export function columnsBody(columns: Columns, registry: LayoutRegistry, texts: Map<number, string>): Buffer {
  const ids = [...new Set(columns.layoutIds)];
  const layouts = Buffer.from(`[${ids.map((id) => {
    let t = texts.get(id);
    if (t === undefined) texts.set(id, (t = layoutJson(registry.get(id))));
    return t;
  }).join(',')}]`, 'utf8');
  const blob = binding().encodeSampleBlob(columns);
  const head = Buffer.allocUnsafe(8);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(layouts.length, 4);
  return Buffer.concat([head, layouts, blob], 8 + layouts.length + blob.length);
}

/** `dicts` (checked samples) as one compact body (`blobColumns`, then `columnsBody`). */
export function encodeBlobBody(dicts: readonly SampleDict[], registry: LayoutRegistry, texts: Map<number, string>): Buffer {
  return columnsBody(blobColumns(dicts, registry), registry, texts);
}

/** A compact body's parts; InvalidDataError (the caller's 400) naming what is wrong. */
export function splitBlobBody(body: Buffer): BlobBodyParts {
  if (body.length < 8 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new InvalidDataError('', `a ${BLOB_CONTENT_TYPE} body starts with "HSPB" and the length of its layouts (${body.length} bytes: ${body.length < 4 ? 'too short' : 'no HSPB'})`);
  }
  const n = body.readUInt32LE(4);
  if (n > body.length - 8) throw new InvalidDataError('', `the layouts are said to be ${n} bytes, but only ${body.length - 8} follow`);
  const text = body.subarray(8, 8 + n);
  // A lone surrogate or bad UTF-8 would be replaced silently by toString: refused instead.
  if (!isUtf8(text)) throw new InvalidDataError('layouts', 'not UTF-8 text');
  return { layouts: text.toString('utf8'), blob: body.subarray(8 + n) };
}
