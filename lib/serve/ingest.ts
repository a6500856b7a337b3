/**
 * A push's samples → the store: each checked (`TimeSeriesSample.fromDict`, which names the field
 * at fault), grouped by its own `hostname`, every host checked against the token's grant before
 * anything is stored, then stored host by host (each a committed transaction). The compact body
 * (ingest-blob.ts) ends the same way.
 */
import { InvalidDataError } from '../errors.js';
import { isoSeconds } from '../native/decode.js';
import { TimeSeriesSample } from '../models/sample.js';
import type { SampleDict } from '../types/sample.js';
import { mayWrite, type Grant } from './auth.js';
import { HttpError, type ParsedBody } from './body.js';
import { wallNsOf, type PushMeta, type SampleStore } from './store/store.js';

export interface Rejected {
  /** The sample's index in the push. */
  index: number;
  /** The field at fault (`diskstats[0].reads_completed`), or '' for the sample as a whole. */
  path: string;
  reason: string;
}

export interface IngestReply {
  accepted: number;
  duplicates: number;
  rejected: Rejected[];
}

/** One host's samples of a push, once stored (for the live events and --remote-write). */
export interface StoredPush {
  host: string;
  /** Samples of the host in the push (duplicates too). */
  samples: number;
  /** The newest one's wall time (ns). */
  lastNs: bigint;
  /** The tags the push said (`X-Hostseries-Tags`); absent: the host keeps those it had. */
  tags?: Record<string, string>;
  /** The samples as dicts, made on the first call (a compact push has none until asked). */
  dicts(): readonly SampleDict[];
}

export type Forward = (push: StoredPush) => void;

export const NS_MAX = 2n ** 63n - 1n;

/** A number `JSON.parse` may have rounded (an integer beyond 2^53). */
function hasUnsafeNumber(v: unknown, depth = 0): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (v === null || typeof v !== 'object' || depth > 64) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (hasUnsafeNumber(x, depth + 1)) return true;
  return false;
}

/**
 * Sample `i` checked, from its fast parse when that is exact: every counter is checked to be a
 * safe integer, so a rounded one fails and the sample is read again exactly (free-form
 * `collectors` values are looked at separately); `timestamp_ns` is a double either way.
 */
function sampleOf(body: ParsedBody, i: number): SampleDict {
  const v = body.values[i];
  try {
    const s = TimeSeriesSample.fromDict(v);
    if (!hasUnsafeNumber(s.collectors)) return s.toDict();
  } catch (e) {
    if (!(e instanceof InvalidDataError)) throw e;
  }
  return TimeSeriesSample.fromDict(body.exact(i)).toDict();
}

/**
 * A checked sample's dict, or why the store cannot keep it exactly: its time is stored as ns
 * (`timestamp_ns`, else `timestamp`'s), and `timestamp` is given back as that time's whole second.
 */
function checked(body: ParsedBody, i: number): SampleDict {
  return storable(sampleOf(body, i));
}

/** `checked` of a dict from elsewhere (a compact push's sample, decoded). */
export function checkSample(v: SampleDict): SampleDict {
  return storable(TimeSeriesSample.fromDict(v).toDict());
}

/** A rejected entry for sample `index` failing a check. */
export function rejection(index: number, e: InvalidDataError): Rejected {
  const reason = e.path && e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
  return { index, path: e.path, reason };
}

/** Refused (403) unless the token may write every host. */
export function checkGrant(grant: Grant, hosts: Iterable<string>): void {
  const refused = [...hosts].filter((h) => !mayWrite(grant, h));
  if (refused.length > 0) throw new HttpError(403, `this token may not write host ${refused.map((h) => JSON.stringify(h)).join(', ')}`);
}

function storable(d: SampleDict): SampleDict {
  if (d.hostname === '') throw new InvalidDataError('hostname', 'must not be empty');
  const wall = wallNsOf(d);
  if (wall < 0n || wall > NS_MAX) throw new InvalidDataError('timestamp', `out of range (${d.timestamp})`);
  const whole = isoSeconds(Number(wall / 1_000_000n));
  if (d.timestamp !== whole) {
    const why = d.timestamp_ns != null ? `the whole UTC second of timestamp_ns (${whole})` : `a whole UTC second like ${whole}`;
    throw new InvalidDataError('timestamp', `expected ${why}, got ${JSON.stringify(d.timestamp)}`);
  }
  return d;
}

/** `k=v,k2=v2` (X-Hostseries-Tags) → tags; 400 on a malformed one. */
export function parseTags(header: string | undefined): Record<string, string> | undefined {
  if (header === undefined) return undefined;
  const tags: Record<string, string> = {};
  for (const part of header.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? '' : part.slice(0, eq).trim();
    if (k === '') throw new HttpError(400, `X-Hostseries-Tags: expected k=v[,k=v...], got ${JSON.stringify(part.trim())}`);
    Object.defineProperty(tags, k, { value: part.slice(eq + 1).trim(), enumerable: true, writable: true, configurable: true });
  }
  return tags;
}

export async function ingest(store: SampleStore, body: ParsedBody, grant: Grant, meta: PushMeta, forward?: Forward): Promise<IngestReply> {
  const rejected: Rejected[] = [];
  const byHost = new Map<string, SampleDict[]>();
  body.values.forEach((_v, index) => {
    let d: SampleDict;
    try {
      d = checked(body, index);
    } catch (e) {
      if (!(e instanceof InvalidDataError)) throw e;
      rejected.push(rejection(index, e));
      return;
    }
    let list = byHost.get(d.hostname);
    if (!list) byHost.set(d.hostname, (list = []));
    list.push(d);
  });
  checkGrant(grant, byHost.keys());
  let accepted = 0;
  let duplicates = 0;
  for (const [host, dicts] of byHost) {
    const r = await store.put(host, dicts, meta);
    accepted += r.accepted;
    duplicates += r.duplicates;
    // Duplicates too: a receiver takes a sample it has (same time, same value) as a no-op.
    if (forward) {
      let lastNs = 0n;
      for (const d of dicts) {
        const w = wallNsOf(d);
        if (w > lastNs) lastNs = w;
      }
      forward({ host, samples: dicts.length, lastNs, tags: meta.tags, dicts: () => dicts });
    }
  }
  return { accepted, duplicates, rejected };
}
