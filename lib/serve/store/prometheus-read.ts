/**
 * Reads of `PrometheusStore` (prometheus.ts) for many hosts at once: the series some sample paths
 * are rebuilt from (lib/prometheus/path-series.ts), or whole sections, of several hosts in one
 * query per set of labels (`instance=~"a|b|c"`), split by `instance`, and rebuilt into each host's
 * samples as the one-host read rebuilds them (lib/prometheus/samples.ts). And the batching that
 * gathers the reads a request makes in one turn (/fleet asks for every host at once) into one.
 */
import type { SectionFilter } from '../../native/decode.js';
import { CPU_ALL, literal, type PathSeries } from '../../prometheus/path-series.js';
import { HOSTSERIES_NAMES, type PromQuery } from '../../prometheus/query.js';
import { samplesFromSeries, type StoredSeries } from '../../prometheus/samples.js';
import type { SampleDict } from '../../types/sample.js';
import { wallNsOf } from './store.js';

/** A host's part of a read: the ms its points are kept in (its window, within what it has). */
export interface HostSpan {
  host: string;
  fromMs: number;
  toMs: number;
}

/**
 * Hosts asked about in one query for the series of some paths: the answers stay a few MB each
 * (measured: 16 hosts' hour of the aggregate CPU line, 192 series, is 18 MB of JSON) and the URL
 * short. Whole sections come a host at a time (a host's 15 min of every series is 5 MB).
 */
const HOSTS_PER_QUERY = 8;

const quote = (s: string): string => JSON.stringify(s);

const instanceMatcher = (hosts: readonly string[]): string =>
  hosts.length === 1 ? `instance=${quote(hosts[0])}` : `instance=~${quote(hosts.map(literal).join('|'))}`;

/**
 * `build` of each host's series of the selectors (`{...}` bodies without the instance), over its
 * span, as each query's hosts come (not once all have: a host's raw points are garbage once built,
 * and 64 hosts' 15 min of every series would be 16 M points held at once).
 */
async function forEachHost<T>(query: PromQuery, spans: readonly HostSpan[], matchers: readonly string[], perQuery: number,
  build: (series: StoredSeries[], span: HostSpan) => T): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const chunks: HostSpan[][] = [];
  for (let i = 0; i < spans.length; i += perQuery) chunks.push(spans.slice(i, i + perQuery));
  await Promise.all(chunks.map(async (chunk) => {
    const inst = instanceMatcher(chunk.map((s) => s.host));
    const fromMs = Math.min(...chunk.map((s) => s.fromMs));
    const toMs = Math.max(...chunk.map((s) => s.toMs));
    const byHost = new Map<string, StoredSeries[]>(chunk.map((s) => [s.host, []]));
    await Promise.all(matchers.map(async (m) => {
      for (const s of await query.raw(`{${m},${inst}}`, fromMs, toMs)) byHost.get(s.labels.instance)?.push(s);
    }));
    for (const span of chunk) out.set(span.host, build(byHost.get(span.host)!, span));
  }));
  return out;
}

/** A host's samples from its series: its points within its span, the samples within [fromNs, toNs]. */
function samplesOf(series: StoredSeries[], span: HostSpan, fromNs: bigint, toNs: bigint): SampleDict[] {
  // Points come in time order (PromQuery.raw): a series within the span is kept as it is.
  const within = (p: StoredSeries['points']): boolean => p.length === 0 || (p[0][0] >= span.fromMs && p[p.length - 1][0] <= span.toMs);
  const kept = series.map((s) => (within(s.points) ? s : { ...s, points: s.points.filter(([t]) => t >= span.fromMs && t <= span.toMs) }));
  return samplesFromSeries(kept, span.host).filter((d) => {
    const ns = wallNsOf(d);
    return ns >= fromNs && ns <= toNs;
  });
}

/**
 * Per host its samples holding what the paths of `plan` need (only those series read), or
 * undefined for a host where that would not equal the whole sections' (a sample without the
 * aggregate CPU line: path-series.ts `cpuAllModes`): its caller reads that one whole.
 */
export function narrowSamples(query: PromQuery, spans: readonly HostSpan[], fromNs: bigint, toNs: bigint, plan: PathSeries): Promise<Map<string, SampleDict[] | undefined>> {
  const matchers = [...plan.groups].map(([labels, names]) => `__name__=~${quote([...names].join('|'))}${labels ? `,${labels}` : ''}`);
  return forEachHost(query, spans, matchers, HOSTS_PER_QUERY, (series, span) => {
    const samples = samplesOf(series, span, fromNs, toNs);
    for (const mode of plan.cpuAllModes) {
      const has = new Set(series.find((s) => s.name === CPU_ALL && s.labels.mode === mode)?.points.map(([t]) => t));
      if (!samples.every((d) => has.has(Math.floor(d.timestamp_ns! / 1e6)))) return undefined;
    }
    return samples;
  });
}

/** Per host its samples with the sections `names` (a regular expression of names; undefined: all) hold. */
export function sectionSamples(query: PromQuery, spans: readonly HostSpan[], fromNs: bigint, toNs: bigint, names: string | undefined): Promise<Map<string, SampleDict[]>> {
  const matcher = names === undefined ? HOSTSERIES_NAMES : `__name__=~${quote(names)}`;
  return forEachHost(query, spans, [matcher], 1, (series, span) => samplesOf(series, span, fromNs, toNs));
}

/**
 * Reads asked in the same turn with the same key (window and what is read) made one: `add` gives
 * the host's answer once `run` (the first adder's) has read every host added before the turn ended.
 */
export class Batcher<T> {
  private readonly open = new Map<string, { spans: HostSpan[]; waiters: Map<string, ((r: { ok: T } | { err: Error }) => void)[]> }>();

  add(key: string, span: HostSpan, run: (spans: HostSpan[]) => Promise<Map<string, T>>): Promise<T> {
    let b = this.open.get(key);
    if (!b) {
      this.open.set(key, (b = { spans: [], waiters: new Map() }));
      const batch = b;
      // After the turn: every read the request started (each host's) has joined.
      setImmediate(() => {
        this.open.delete(key);
        run(batch.spans).then(
          (m) => batch.waiters.forEach((ws, host) => ws.forEach((w) => w({ ok: m.get(host)! }))),
          (e: unknown) => {
            const err = e instanceof Error ? e : new Error(String(e));
            batch.waiters.forEach((ws) => ws.forEach((w) => w({ err })));
          },
        );
      });
    }
    let ws = b.waiters.get(span.host);
    if (!ws) {
      b.waiters.set(span.host, (ws = []));
      b.spans.push(span);
    }
    const waiting = ws;
    return new Promise<T>((resolve, reject) => waiting.push((r) => ('ok' in r ? resolve(r.ok) : reject(r.err))));
  }
}

/** The batch key of a read: its window and what it reads. */
export const readKey = (fromNs: bigint, toNs: bigint, what: readonly string[] | SectionFilter | undefined): string =>
  `${fromNs}|${toNs}|${what === undefined ? '*' : [...what].join('\n')}`;
