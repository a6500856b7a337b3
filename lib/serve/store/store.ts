/**
 * What `hostseries serve` keeps: every host's samples (as the dicts the agents pushed) and what
 * it knows of each host. An interface, so that another backend can stand in for the embedded
 * SQLite one (synchronous: better-sqlite3): `PrometheusStore` (prometheus.ts) answers over HTTP,
 * so every method may answer with a promise and every caller awaits it.
 */
import type { SectionFilter } from '../../native/decode.js';
import type { Columns, StoredLayout } from '../../native/encode.js';
import type { SampleDict } from '../../types/sample.js';

/** What a push says of its host beside the samples. */
export interface PushMeta {
  /** `X-Hostseries-Tags`; absent keeps the tags the host had. */
  tags?: Record<string, string>;
  /** `X-Hostseries-Agent`; absent keeps the version the host had. */
  agent?: string;
  /** When the push arrived (ms since the epoch). */
  receivedMs: number;
}

export interface PutResult {
  accepted: number;
  /** Samples whose time (host, ns) was stored already, or came twice in the same push. */
  duplicates: number;
}

/** What the store knows of a host. */
export interface HostRecord {
  hostname: string;
  tags: Record<string, string>;
  agent: string | null;
  /** First and last push from the host (ms since the epoch). */
  firstSeenMs: number;
  lastSeenMs: number;
  /** Time between the host's pushes, as last measured (ms); null before it can be told. */
  pushIntervalMs: number | null;
  /** Samples stored, and the wall times of the first and last (ns; null without samples). */
  samples: number;
  firstNs: bigint | null;
  lastNs: bigint | null;
  /** Disks and network interfaces of the host's newest sample layout. */
  disks: string[];
  interfaces: string[];
}

/** Values of one path with the wall time of each (ns, as a double: exact to 256 ns). */
export interface Points {
  timesNs: number[];
  values: number[];
}

export interface Table {
  timesNs: number[];
  /** One column per path, a value per sample. */
  columns: Float64Array[];
}

export interface ExpireResult {
  chunks: number;
  samples: number;
}

/** What a method gives, now (SQLite) or later (a store over the network). */
export type Answer<T> = T | Promise<T>;

/** Samples as columns (`encodeSampleBlob`'s input) whose layout ids are those of `layouts` (the sender's numbering). */
export interface ColumnBatch {
  columns: Columns;
  layouts: readonly StoredLayout[];
}

export interface SampleStore {
  /**
   * Store `dicts` (checked already, all of host `host`), skipping those whose time is stored
   * already, and note the push (tags, agent, last seen). Returns once they are durable: a crash
   * after it loses none of them.
   */
  put(host: string, dicts: readonly SampleDict[], meta: PushMeta): Answer<PutResult>;
  /**
   * Optional: `put` of samples checked already as columns (a compact push: ingest-blob.ts), stored
   * without building dicts. Ingest gives a store without it the samples as dicts, through `put`.
   */
  putColumns?(host: string, batch: ColumnBatch, meta: PushMeta): Answer<PutResult>;
  hosts(): Answer<HostRecord[]>;
  host(hostname: string): Answer<HostRecord | undefined>;
  /**
   * The host's samples with a wall time in [fromNs, toNs], in time order; with `only`, only those
   * sections of each (the others are not decoded).
   */
  window(host: string, fromNs: bigint, toNs: bigint, only?: SectionFilter): Answer<SampleDict[]>;
  /**
   * The values of one sample path (`meminfo.MemAvailable`; not `rates.`, which need pairs of
   * samples: `window`) in [fromNs, toNs], in time order, read without building the samples.
   */
  points(host: string, fromNs: bigint, toNs: bigint, path: string): Answer<Points>;
  /**
   * Several sample paths side by side: for each sample in [fromNs, toNs] (time order) its wall
   * time, and per path its value (NaN where the sample has none), read without building samples.
   */
  table(host: string, fromNs: bigint, toNs: bigint, paths: readonly string[]): Answer<Table>;
  /** Delete the chunks whose last sample is older than `beforeNs`; what went (a store whose database keeps its own retention: nothing). */
  expire(beforeNs: bigint): Answer<ExpireResult>;
  close(): Answer<void>;
}

/** A sample's wall time in ns, as the store keys it (and `toColumns` stores it): `timestamp_ns`, else `timestamp`'s. */
export function wallNsOf(d: SampleDict): bigint {
  return d.timestamp_ns != null ? BigInt(d.timestamp_ns) : BigInt(Date.parse(d.timestamp)) * 1_000_000n;
}
