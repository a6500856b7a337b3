/**
 * A client of the Prometheus HTTP query API (Prometheus, VictoriaMetrics, Mimir, Thanos all
 * answer it): instant queries, and the raw points of series over a window, read with range
 * selectors in slices so no answer grows past what the server allows.
 */
import { PromQueryError } from '../errors.js';
import type { SampleDict } from '../types/sample.js';
import { parseMatrix, type MatrixSeries } from './matrix.js';
import { samplesFromSeries, type StoredSeries } from './samples.js';

export interface PromQueryOptions {
  /** The API's base, e.g. `http://prometheus:9090` (`/api/v1/...` is added). */
  url: string;
  authorization?: string;
  /** Per query, from when it is sent (default 30 s). */
  timeoutMs?: number;
  /** Queries in flight at once (default 8); more wait their turn, their timeout not yet started. */
  maxInFlight?: number;
  /**
   * Answers gzip'd (default: unless the TSDB is on loopback, where compressing only costs the
   * TSDB and this process CPU; measured, a host's 15 min of every series, 5.7 MB of JSON: 71–108
   * ms a query uncompressed, 146–298 ms gzip'd, VictoriaMetrics and Prometheus on 127.0.0.1).
   */
  compress?: boolean;
}

/** Whether `url` names this machine (localhost, 127.0.0.0/8, ::1). */
function loopback(url: URL): boolean {
  const h = url.hostname;
  return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

interface ApiReply<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

interface MatrixData {
  resultType: 'matrix';
  result: { metric: Record<string, string>; values: [number, string][] }[];
}

interface VectorData {
  resultType: 'vector';
  result: { metric: Record<string, string>; value: [number, string] }[];
}

/** The longest range selector one query reads (an hour at 1 s is 3,600 points a series). */
const SLICE_MS = 3_600_000;

/** Every name hostseries writes: node_exporter's and ours. */
export const HOSTSERIES_NAMES = '__name__=~"node_.+|hostseries_.+"';

const quote = (s: string): string => JSON.stringify(s);

export class PromQuery {
  private readonly base: string;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  private readonly headers: Record<string, string>;

  constructor(private readonly o: PromQueryOptions) {
    const url = new URL(o.url);
    this.base = url.toString().replace(/\/$/, '');
    this.headers = {
      ...(o.authorization ? { authorization: o.authorization } : {}),
      ...((o.compress ?? !loopback(url)) ? {} : { 'accept-encoding': 'identity' }),
    };
  }

  /**
   * One query, when one of the `maxInFlight` turns is free: a request reading many hosts (/fleet
   * of 64 host-hours) asks for all of them at once, and sent together they would wait in the TSDB
   * while each one's timeout runs. A query done hands its turn to the next waiting.
   */
  private async get<T>(path: string, params: Record<string, string>, fast?: (text: string) => T | undefined): Promise<T> {
    if (this.inFlight >= (this.o.maxInFlight ?? 8)) await new Promise<void>((r) => this.waiting.push(r));
    else this.inFlight++;
    try {
      const { res, text } = await this.send(path, params);
      return (res.ok ? fast?.(text) : undefined) ?? this.data<T>(path, res, text);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private async send(path: string, params: Record<string, string>): Promise<{ res: Response; text: string }> {
    const url = `${this.base}${path}?${new URLSearchParams(params).toString()}`;
    let res: Response | undefined;
    try {
      res = await fetch(url, {
        headers: this.headers,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
      });
      // The timeout holds for the body too: a slow answer ends here, as a query error (not a crash of the route).
      return { res, text: await res.text() };
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      const why = cause?.code ?? (e as Error).message;
      throw new PromQueryError(this.base, res?.status ?? 0, res ? `${path}: the answer did not come whole: ${why}` : `unreachable: ${why}`, { cause: e });
    }
  }

  /** The `data` of an answer, or the error it says. */
  private data<T>(path: string, res: Response, text: string): T {
    let body: ApiReply<T>;
    try {
      body = JSON.parse(text) as ApiReply<T>;
    } catch {
      throw new PromQueryError(this.base, res.status, `${path}: HTTP ${res.status}, not a query API reply: ${text.slice(0, 200)}`);
    }
    if (!res.ok || body.status !== 'success') throw new PromQueryError(this.base, res.status, `${path}: ${body.errorType ?? 'error'}: ${body.error ?? `HTTP ${res.status}`}`);
    return body.data;
  }

  /** An instant query's vector at `atMs` (default now). */
  async vector(query: string, atMs?: number): Promise<{ labels: Record<string, string>; ms: number; value: number }[]> {
    const data = await this.get<VectorData>('/api/v1/query', { query, ...(atMs !== undefined ? { time: String(atMs / 1000) } : {}) });
    if (data.resultType !== 'vector') throw new PromQueryError(this.base, 200, `expected a vector for ${query}, got a ${data.resultType as string}`);
    return data.result.map((r) => ({ labels: r.metric, ms: Math.round(r.value[0] * 1000), value: Number(r.value[1]) }));
  }

  /** The raw points of the series `selector` (a `{...}` matcher) in [fromMs, toMs]. */
  async raw(selector: string, fromMs: number, toMs: number): Promise<StoredSeries[]> {
    const bySeries = new Map<string, { name: string; labels: Record<string, string>; points: [number, number][] }>();
    for (let end = toMs; end >= fromMs; end -= SLICE_MS) {
      // A range selector `[Nms]` at time t covers (t - N, t]: slices that meet, none counted twice.
      const span = Math.min(SLICE_MS, end - fromMs + 1);
      const query = `${selector}[${span}ms]`;
      const result = await this.get<MatrixSeries[] | MatrixData>('/api/v1/query', { query, time: String(end / 1000) }, parseMatrix);
      for (const r of Array.isArray(result) ? result : this.matrix(query, result)) {
        const { __name__: name, ...labels } = r.metric;
        const key = JSON.stringify(r.metric);
        let s = bySeries.get(key);
        if (!s) bySeries.set(key, (s = { name, labels, points: r.points }));
        else for (const p of r.points) s.points.push(p);
      }
    }
    // Slices meet at their ends, where a point can come twice; a selector may reach a ms early.
    // One slice's points come in time order, once each (the TSDB's): only the range is checked.
    const one = toMs - fromMs < SLICE_MS;
    for (const s of bySeries.values()) {
      s.points = s.points.filter(([t]) => t >= fromMs && t <= toMs);
      if (!one) s.points = s.points.sort((a, b) => a[0] - b[0]).filter((p, i, all) => i === 0 || p[0] !== all[i - 1][0]);
    }
    return [...bySeries.values()];
  }

  /** A matrix answer JSON.parse read (not in the compact form parseMatrix reads) as its series. */
  private matrix(query: string, data: MatrixData): MatrixSeries[] {
    if (data.resultType !== 'matrix') throw new PromQueryError(this.base, 200, `expected a matrix for ${query}, got a ${data.resultType as string}`);
    return data.result.map((r) => ({ metric: r.metric, points: r.values.map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)]) }));
  }

  /**
   * A host's samples in [fromMs, toMs], rebuilt from what hostseries wrote (samples.ts says what
   * cannot come back); `names`, a regular expression of metric names, reads only those.
   */
  async samples(instance: string, fromMs: number, toMs: number, names?: string): Promise<SampleDict[]> {
    const matcher = names === undefined ? HOSTSERIES_NAMES : `__name__=~${quote(names)}`;
    return samplesFromSeries(await this.raw(`{instance=${quote(instance)},${matcher}}`, fromMs, toMs), instance);
  }
}
