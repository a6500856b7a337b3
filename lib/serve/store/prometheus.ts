/**
 * `serve --prometheus URL`: the store over a Prometheus-compatible TSDB (Prometheus with
 * --web.enable-remote-write-receiver, VictoriaMetrics: URL/api/v1/write and URL/api/v1/query).
 * A push goes to the TSDB by remote write (node_exporter's names, every field: FULL_FIDELITY, the
 * host as `instance`, its tags as labels) and is acknowledged once the TSDB took it; reads come
 * from its query API: the hosts from the series every sample has
 * (`hostseries_sample_timestamp_seconds`, written by agents' own --remote-write too) with range
 * functions, samples rebuilt from the raw points (lib/prometheus/samples.ts), paths read from
 * those samples (from-window.ts): `points`/`table` from only the series of their paths
 * (lib/prometheus/path-series.ts), the reads of many hosts made in one turn made together
 * (prometheus-read.ts). The TSDB keeps its own retention: `expire` deletes nothing.
 *
 * What the TSDB cannot keep comes back as lib/prometheus/samples.ts says (time to the ms, no
 * command lines, no errors); what a push says of its host (tags, agent, when it came) is written
 * beside each sample (`hostseries_push_received_timestamp_seconds{agent}`, tags as labels).
 */
import { PromQueryError, RemoteWriteError } from '../../errors.js';
import type { SectionFilter } from '../../native/decode.js';
import { FULL_FIDELITY, SAMPLE_TIME, type MetricFamily } from '../../prometheus/families.js';
import { tagLabels } from '../../prometheus/labels.js';
import { PromQuery } from '../../prometheus/query.js';
import { WriteRequestEncoder } from '../../prometheus/remote-write.js';
import { postWriteRequest } from '../../prometheus/remote-writer.js';
import { seriesOfPaths } from '../../prometheus/path-series.js';
import { namesOfSections, nsOfMs } from '../../prometheus/samples.js';
import type { SampleDict } from '../../types/sample.js';
import { HttpError } from '../body.js';
import { pointsFromWindow, pointsOf, tableFromWindow, tableOf } from './from-window.js';
import { Batcher, narrowSamples, readKey, sectionSamples, type HostSpan } from './prometheus-read.js';
import { type ExpireResult, type HostRecord, type Points, type PushMeta, type PutResult, type SampleStore, type Table } from './store.js';

/** When each sample's push reached the server (s), labelled with the agent's version when it said it. */
export const RECEIVED = 'hostseries_push_received_timestamp_seconds';

export interface PrometheusStoreOptions {
  /** The TSDB's base URL (`/api/v1/query` is added for reads). */
  url: string;
  /** Where remote writes go (default: URL/api/v1/write, Prometheus' and VictoriaMetrics' path). */
  writeUrl?: string;
  /** `Authorization` for both (e.g. `Bearer T`), never logged. */
  authorization?: string;
  /** How far back hosts are looked for (ms; default 31 days, past Prometheus' default retention of 15). */
  lookbackMs?: number;
  timeoutMs?: number;
}

/** What /hosts asked of the TSDB is kept this long (a page asks for it on each redraw); a push drops it. */
const RECORDS_FRESH_MS = 1000;
/** Hosts whose disks and interfaces are asked about at once (those the one query at `now` missed: one query each). */
const PARALLEL = 8;
/** The series whose `device`s are a host's disks and its interfaces. */
const LAYOUT = { disks: 'node_disk_reads_completed_total', interfaces: 'node_network_receive_bytes_total' } as const;
/** The window over which a host's push interval is measured. */
const INTERVAL_WINDOW = '10m';

const quote = (s: string): string => JSON.stringify(s);
const sampleMs = (d: SampleDict): number => (d.timestamp_ns != null ? Math.floor(d.timestamp_ns / 1e6) : Date.parse(d.timestamp));
const natural = new Intl.Collator('en', { numeric: true });

/** `f` over `items`, at most `n` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  }));
  return out;
}

type Vector = { labels: Record<string, string>; value: number }[];

/** Per instance, the greatest value and the labels of the series that has it. */
function byInstanceMax(v: Vector): Map<string, { value: number; labels: Record<string, string> }> {
  const out = new Map<string, { value: number; labels: Record<string, string> }>();
  for (const r of v) {
    const i = r.labels.instance;
    if (i === undefined || !Number.isFinite(r.value)) continue;
    const prev = out.get(i);
    if (!prev || r.value > prev.value) out.set(i, r);
  }
  return out;
}

const byInstance = (v: Vector): Map<string, number> => new Map(v.filter((r) => r.labels.instance !== undefined).map((r) => [r.labels.instance, r.value]));

export class PrometheusStore implements SampleStore {
  readonly url: string;
  private readonly query: PromQuery;
  private readonly writeUrl: string;
  private readonly lookback: string;
  /** What pushes said of each host (a push without tags or agent keeps what the host had). */
  private readonly said = new Map<string, { tags: Record<string, string>; agent: string | null }>();
  /** Per host an encoder for its labels (its tags), so that labels are encoded once. */
  private readonly encoders = new Map<string, { key: string; encoder: WriteRequestEncoder }>();
  /** A host's pushes go to the TSDB one after another (in order; the duplicate check sees the one before). */
  private readonly writing = new Map<string, Promise<unknown>>();
  /** Host records as last asked ('' for all hosts), and when. */
  private readonly asked = new Map<string, { at: number; records: Promise<HostRecord[]> }>();
  /**
   * Per host its first and last sample as last known (ms): from its record, widened by each push
   * through this server. Not dropped by a push (as `asked` is), so that a request reading many
   * hosts' windows (/fleet, the dashboard's report) bounds each without asking for its record
   * again: it was ten queries per host once the records were a second old (/report of 64 hosts ×
   * 120 s over VictoriaMetrics: 8.8 s before, 4.8 s after; bench/serve-prometheus.mjs).
   */
  private readonly bounds = new Map<string, { firstMs: number; lastMs: number }>();
  /** Reads of many hosts' windows (whole sections; the series of some paths) made in one turn, made together. */
  private readonly windows = new Batcher<SampleDict[]>();
  private readonly narrowed = new Batcher<SampleDict[] | undefined>();

  constructor(private readonly o: PrometheusStoreOptions) {
    this.url = new URL(o.url).toString().replace(/\/$/, '');
    this.writeUrl = o.writeUrl ?? `${this.url}/api/v1/write`;
    this.query = new PromQuery({ url: this.url, authorization: o.authorization, timeoutMs: o.timeoutMs });
    this.lookback = `${Math.round((o.lookbackMs ?? 31 * 86_400_000) / 1000)}s`;
  }

  /** A TSDB that does not answer is the server's 503 (the request can be made again). */
  private async ask<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof PromQueryError) throw new HttpError(503, `the TSDB did not answer: ${e.message}`);
      throw e;
    }
  }

  /** Whether the TSDB's query API answers (a message saying why not, or undefined). */
  async check(): Promise<string | undefined> {
    try {
      await this.query.vector('vector(1)');
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  put(host: string, dicts: readonly SampleDict[], meta: PushMeta): Promise<PutResult> {
    const before = this.writing.get(host) ?? Promise.resolve();
    const done = before.catch(() => undefined).then(() => this.putNow(host, dicts, meta));
    const settled = done.catch(() => undefined);
    this.writing.set(host, settled);
    void settled.then(() => {
      if (this.writing.get(host) === settled) this.writing.delete(host);
    });
    return done;
  }

  private async putNow(host: string, dicts: readonly SampleDict[], meta: PushMeta): Promise<PutResult> {
    if (dicts.length === 0) return { accepted: 0, duplicates: 0 };
    const ms = dicts.map(sampleMs);
    const lo = Math.min(...ms);
    const hi = Math.max(...ms);
    // What the TSDB holds of the push's span already: a sample at a time stored is a duplicate
    // (an agent sending again what it had no reply for). Prometheus refuses a request with a
    // sample older than the series' newest, so sending those again would fail the whole push.
    const stored = await this.ask(async () => {
      const series = await this.query.raw(`{__name__=${quote(SAMPLE_TIME)},instance=${quote(host)}}`, lo, hi);
      return new Set(series.flatMap((s) => s.points.map(([t]) => t)));
    });
    const fresh: SampleDict[] = [];
    dicts.forEach((d, i) => {
      if (stored.has(ms[i])) return;
      stored.add(ms[i]);
      fresh.push(d);
    });
    const had = this.said.get(host) ?? (await this.hostSaid(host));
    const now = { tags: meta.tags ?? had.tags, agent: meta.agent ?? had.agent };
    this.said.set(host, now);
    if (fresh.length > 0) {
      const labels = { instance: host, ...tagLabels(now.tags) };
      const key = JSON.stringify(labels);
      let e = this.encoders.get(host);
      if (!e || e.key !== key) this.encoders.set(host, (e = { key, encoder: new WriteRequestEncoder({ ...FULL_FIDELITY, labels }) }));
      const received: MetricFamily[] = [{
        name: RECEIVED, type: 'gauge', help: 'When the push of the sample reached hostseries serve, in unixtime.',
        series: [{ labels: now.agent !== null ? [['agent', now.agent]] : [], value: meta.receivedMs / 1000 }],
      }];
      const body = e.encoder.encode(fresh, () => received);
      try {
        await postWriteRequest(this.writeUrl, body, this.o.authorization, this.o.timeoutMs);
        const b = this.bounds.get(host);
        if (b) this.bounds.set(host, { firstMs: Math.min(b.firstMs, lo), lastMs: Math.max(b.lastMs, hi) });
      } catch (err) {
        throw writeError(err);
      } finally {
        this.asked.clear();
      }
    }
    return { accepted: fresh.length, duplicates: dicts.length - fresh.length };
  }

  /** Tags and agent of a host as the TSDB has them (a host first pushing since this server started). */
  private async hostSaid(host: string): Promise<{ tags: Record<string, string>; agent: string | null }> {
    const h = await this.host(host);
    return { tags: h?.tags ?? {}, agent: h?.agent ?? null };
  }

  hosts(): Promise<HostRecord[]> {
    return this.records('');
  }

  async host(hostname: string): Promise<HostRecord | undefined> {
    const all = this.asked.get('');
    if (all && Date.now() - all.at < RECORDS_FRESH_MS) return (await all.records).find((h) => h.hostname === hostname);
    return (await this.records(hostname))[0];
  }

  /** Every host's record (`instance` ''), or one host's; kept a second. */
  private records(instance: string): Promise<HostRecord[]> {
    const kept = this.asked.get(instance);
    if (kept && Date.now() - kept.at < RECORDS_FRESH_MS) return kept.records;
    const records = this.ask(() => this.readRecords(instance));
    this.asked.set(instance, { at: Date.now(), records });
    records.catch(() => this.asked.delete(instance));
    return records;
  }

  private async readRecords(instance: string): Promise<HostRecord[]> {
    const sel = instance === '' ? '' : `{instance=${quote(instance)}}`;
    const S = `${SAMPLE_TIME}${sel}`;
    const R = `${RECEIVED}${sel}`;
    const L = this.lookback;
    const W = INTERVAL_WINDOW;
    const [last, first, count, seenLast, seenFirst, pushes, pushSpan, recent, recentSpan, diskNow, netNow] = await Promise.all([
      this.query.vector(`max_over_time(${S}[${L}])`),
      this.query.vector(`min by (instance) (min_over_time(${S}[${L}]))`),
      this.query.vector(`sum by (instance) (count_over_time(${S}[${L}]))`),
      this.query.vector(`max_over_time(${R}[${L}])`),
      this.query.vector(`min by (instance) (min_over_time(${R}[${L}]))`),
      this.query.vector(`sum by (instance) (changes(${R}[${W}]))`),
      this.query.vector(`max by (instance) (max_over_time(${R}[${W}])) - min by (instance) (min_over_time(${R}[${W}]))`),
      this.query.vector(`sum by (instance) (count_over_time(${S}[${W}]))`),
      this.query.vector(`max by (instance) (max_over_time(${S}[${W}])) - min by (instance) (min_over_time(${S}[${W}]))`),
      // The disks and interfaces of every host that sampled within the TSDB's lookback (5 min):
      // the time of each device's newest point, kept where it is the host's newest sample's.
      this.query.vector(`timestamp(${LAYOUT.disks}${sel})`),
      this.query.vector(`timestamp(${LAYOUT.interfaces}${sel})`),
    ]);
    const lastOf = byInstanceMax(last);
    const firstOf = byInstance(first);
    const countOf = byInstance(count);
    const seenLastOf = byInstanceMax(seenLast);
    const seenFirstOf = byInstance(seenFirst);
    const pushesOf = byInstance(pushes);
    const pushSpanOf = byInstance(pushSpan);
    const recentOf = byInstance(recent);
    const recentSpanOf = byInstance(recentSpan);
    const names = [...lastOf.keys()].sort();
    const lastMsOf = new Map(names.map((h) => [h, Math.round(lastOf.get(h)!.value * 1000)]));
    const devicesNow = (v: Vector): Map<string, string[]> => {
      const out = new Map<string, string[]>();
      for (const r of v) {
        const { instance, device } = r.labels;
        if (instance === undefined || device === undefined || Math.round(r.value * 1000) !== lastMsOf.get(instance)) continue;
        out.set(instance, [...(out.get(instance) ?? []), device]);
      }
      return out;
    };
    const disksNow = devicesNow(diskNow);
    const netsNow = devicesNow(netNow);
    return mapLimit(names, PARALLEL, async (hostname): Promise<HostRecord> => {
      const lastMs = lastMsOf.get(hostname)!;
      const firstMs = Math.round((firstOf.get(hostname) ?? lastOf.get(hostname)!.value) * 1000);
      this.bounds.set(hostname, { firstMs, lastMs });
      const seen = seenLastOf.get(hostname);
      // The tags are the labels of the newest samples' series (the TSDB's own and ours aside).
      const { instance: _i, job: _j, __name__: _n, ...tags } = lastOf.get(hostname)!.labels;
      const pushesN = pushesOf.get(hostname) ?? 0;
      const recentN = recentOf.get(hostname) ?? 0;
      // Between pushes: the receive times' span over their changes; a host whose samples the
      // TSDB got otherwise (an agent's own --remote-write): the samples' spacing.
      let interval: number | null = null;
      if (seen && pushesN > 0) interval = ((pushSpanOf.get(hostname) ?? 0) * 1000) / pushesN;
      else if (recentN > 1) interval = ((recentSpanOf.get(hostname) ?? 0) * 1000) / (recentN - 1);
      // A host not in the query at `now` (its newest sample older than the lookback): its own query.
      const layout = disksNow.has(hostname) || netsNow.has(hostname) ? undefined
        : await this.query.raw(`{instance=${quote(hostname)},__name__=~"${LAYOUT.disks}|${LAYOUT.interfaces}"}`, lastMs, lastMs);
      const devices = (name: string, now: Map<string, string[]>): string[] =>
        (layout ? layout.filter((s) => s.name === name && s.labels.device !== undefined).map((s) => s.labels.device) : now.get(hostname) ?? []).sort(natural.compare);
      return {
        hostname,
        tags,
        agent: seen?.labels.agent ?? null,
        firstSeenMs: seen ? Math.round((seenFirstOf.get(hostname) ?? seen.value) * 1000) : firstMs,
        lastSeenMs: seen ? Math.round(seen.value * 1000) : lastMs,
        pushIntervalMs: interval === null || !Number.isFinite(interval) ? null : Math.max(1000, Math.round(interval)),
        samples: countOf.get(hostname) ?? 0,
        // As the samples come back (wallNsOf of each), so that a window of these times has them.
        firstNs: BigInt(nsOfMs(firstMs)),
        lastNs: BigInt(nsOfMs(lastMs)),
        disks: devices(LAYOUT.disks, disksNow),
        interfaces: devices(LAYOUT.interfaces, netsNow),
      };
    });
  }

  /**
   * The ms a read of the host's [fromNs, toNs] asks for, or undefined for none (an unknown host,
   * a window outside what it has). The TSDB keeps ms: the window's ms, within what the host has
   * (an open end reads no empty hours), and a ms more at the end: a sample's time comes back as
   * ms × 1e6 in a double, which can fall a few hundred ns short of the ms. The samples are then
   * kept by that time, as the SQLite store keeps them by the time it holds.
   */
  private async spanOf(host: string, fromNs: bigint, toNs: bigint): Promise<HostSpan | undefined> {
    // The bounds as last known: its newest sample may have come since (an agent's own remote
    // write), so a known host's window reaches to now at least.
    let b = this.bounds.get(host);
    if (b) b = { firstMs: b.firstMs, lastMs: Math.max(b.lastMs, Date.now()) };
    else if (!(await this.host(host))) return undefined;
    else b = this.bounds.get(host)!;
    const fromMs = Math.max(b.firstMs, Number(fromNs / 1_000_000n));
    const toMs = Math.min(b.lastMs, Number(toNs / 1_000_000n) + 1);
    return toMs < fromMs ? undefined : { host, fromMs, toMs };
  }

  async window(host: string, fromNs: bigint, toNs: bigint, only?: SectionFilter): Promise<SampleDict[]> {
    const span = await this.spanOf(host, fromNs, toNs);
    if (!span) return [];
    const names = namesOfSections(only, SAMPLE_TIME);
    return this.ask(() => this.windows.add(readKey(fromNs, toNs, only), span, (spans) => sectionSamples(this.query, spans, fromNs, toNs, names)));
  }

  /**
   * The host's samples with only the series `paths` are rebuilt from (path-series.ts), or
   * undefined where those would not give what whole sections give (read whole, `window`).
   */
  private async narrow(host: string, fromNs: bigint, toNs: bigint, paths: readonly string[]): Promise<SampleDict[] | undefined> {
    const plan = seriesOfPaths(paths, SAMPLE_TIME);
    if (!plan) return undefined;
    const span = await this.spanOf(host, fromNs, toNs);
    if (!span) return [];
    return this.ask(() => this.narrowed.add(readKey(fromNs, toNs, paths), span, (spans) => narrowSamples(this.query, spans, fromNs, toNs, plan)));
  }

  async points(host: string, fromNs: bigint, toNs: bigint, path: string): Promise<Points> {
    const samples = await this.narrow(host, fromNs, toNs, [path]);
    return samples ? pointsOf(samples, path) : pointsFromWindow(this, host, fromNs, toNs, path);
  }

  async table(host: string, fromNs: bigint, toNs: bigint, paths: readonly string[]): Promise<Table> {
    const samples = await this.narrow(host, fromNs, toNs, paths);
    return samples ? tableOf(samples, paths) : tableFromWindow(this, host, fromNs, toNs, paths);
  }

  /** The TSDB keeps its own retention (Prometheus --storage.tsdb.retention.time, VictoriaMetrics -retentionPeriod). */
  expire(): ExpireResult {
    return { chunks: 0, samples: 0 };
  }

  async close(): Promise<void> {
    await Promise.all([...this.writing.values()]);
  }
}

/**
 * A remote write that failed, as the push's answer: the TSDB out of reach or failing (5xx, 429,
 * 408) or refusing our credentials or URL is 503 (the agent keeps the samples queued and tries
 * again); a body too large is 413 (the agent sends less at a time); samples the TSDB refuses
 * (400: e.g. older than Prometheus takes without out_of_order_time_window) are 400.
 */
function writeError(e: unknown): unknown {
  if (!(e instanceof RemoteWriteError)) return e;
  const s = e.status;
  if (s === 413) return new HttpError(413, `the TSDB refused the push as too large: ${e.message}`);
  if (s === 400 || s === 422) return new HttpError(400, `the TSDB refused the samples: ${e.message}`);
  return new HttpError(503, `the TSDB did not take the samples (${e.message}); they stay with the agent, which pushes them again`);
}
