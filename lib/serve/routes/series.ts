/**
 * `GET /api/v1/series`, `/api/v1/aggregate` and `/api/v1/fleet`: one numeric path (what the
 * collector's `aggregate()` takes, rates included) of one host bucketed by step, of one host
 * summarized, and of every host summarized side by side with the fleet's figures.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../body.js';
import { buckets, checkedPath, pathPoints, stepNsOf, summary } from '../query.js';
import { AGGREGATE, DURATION, errors, FLEET, HOSTNAME, PATH, route, SERIES, TIME, type Schema } from '../schemas.js';
import type { SampleStore } from '../store/store.js';
import { durationMs, isoOfMs, isoOfNs, parseWindow } from '../time.js';
import { isOnline } from './hosts.js';

export interface SeriesRouteOptions {
  store: SampleStore;
  offlineAfterMs?: number;
}

/** Without `from`, a query covers the hour before `to`. */
const DEFAULT_SPAN_MS = 3_600_000;

const FROM = TIME('the window\'s start (inclusive; default: an hour before to)');
const TO = TIME('the window\'s end (inclusive; default: now)');

const query = (properties: Record<string, Schema>, required: string[]): Schema => ({ type: 'object', required, properties });

const num = (v: number): number | null => (Number.isNaN(v) ? null : v);

async function knownHost(store: SampleStore, host: string): Promise<void> {
  if (!(await store.host(host))) throw new HttpError(404, `host: no host ${JSON.stringify(host)}`);
}

interface SeriesQuery { host: string; path: string; from?: string; to?: string; step?: string }
interface AggregateQuery { host: string; path: string; from?: string; to?: string }
interface FleetQuery { path: string; from?: string; to?: string; hosts?: string }

export function seriesRoutes(app: FastifyInstance, o: SeriesRouteOptions): void {
  app.get<{ Querystring: SeriesQuery }>('/api/v1/series', {
    schema: route({
      summary: 'one path of one host over a window, per step bucket avg/min/max/count',
      querystring: query({
        host: HOSTNAME, path: PATH, from: FROM, to: TO,
        step: { ...DURATION, description: `bucket length: ${String(DURATION.description)} (default: the smallest whole second giving at most 1000 buckets; at most 10000 buckets)` },
      }, ['host', 'path']),
      response: { 200: SERIES, ...errors(400, 401, 404, 500, 503) },
    }),
  }, async (request) => {
    const q = request.query;
    const path = checkedPath(q.path);
    const w = parseWindow(q, DEFAULT_SPAN_MS);
    const stepMs = q.step === undefined ? undefined : durationMs(q.step);
    if (q.step !== undefined && stepMs === undefined) throw new HttpError(400, `step: expected a duration such as 10s, 5m or 1h, got ${JSON.stringify(q.step)}`);
    const stepNs = stepNsOf(stepMs, w);
    await knownHost(o.store, q.host);
    const from = Number(w.fromNs);
    const points = buckets(await pathPoints(o.store, q.host, w, path), from, stepNs).map((b) => ({
      time: isoOfMs(b.startNs / 1e6), avg: b.avg, min: b.min, max: b.max, count: b.count,
    }));
    return { host: q.host, path, from: isoOfNs(w.fromNs), to: isoOfNs(w.toNs), step_seconds: stepNs / 1e9, points };
  });

  app.get<{ Querystring: AggregateQuery }>('/api/v1/aggregate', {
    schema: route({
      summary: 'one path of one host over a window: count, avg, min, max, p95 (as the collector\'s aggregate())',
      querystring: query({ host: HOSTNAME, path: PATH, from: FROM, to: TO }, ['host', 'path']),
      response: { 200: AGGREGATE, ...errors(400, 401, 404, 500, 503) },
    }),
  }, async (request) => {
    const q = request.query;
    const path = checkedPath(q.path);
    const w = parseWindow(q, DEFAULT_SPAN_MS);
    await knownHost(o.store, q.host);
    const a = summary(await pathPoints(o.store, q.host, w, path));
    return {
      host: q.host, path, from: isoOfNs(w.fromNs), to: isoOfNs(w.toNs),
      count: a.count, span_seconds: a.spanSeconds, avg: num(a.avg), min: num(a.min), max: num(a.max), p95: num(a.p95),
    };
  });

  app.get<{ Querystring: FleetQuery }>('/api/v1/fleet', {
    schema: route({
      summary: 'one path across hosts: per host and fleet-wide avg/min/max, hosts online',
      querystring: query({
        path: PATH, from: FROM, to: TO,
        hosts: { type: 'string', description: 'comma-separated hostnames (default: every host)' },
      }, ['path']),
      response: { 200: FLEET, ...errors(400, 401, 500, 503) },
    }),
  }, async (request) => {
    const q = request.query;
    const path = checkedPath(q.path);
    const w = parseWindow(q, DEFAULT_SPAN_MS);
    const now = Date.now();
    const wanted = q.hosts ? new Set(q.hosts.split(',').map((h) => h.trim()).filter(Boolean)) : undefined;
    const records = (await o.store.hosts()).filter((h) => !wanted || wanted.has(h.hostname));
    const hosts = await Promise.all(records.map(async (h) => {
      const a = summary(await pathPoints(o.store, h.hostname, w, path));
      return { hostname: h.hostname, online: isOnline(h, now, o.offlineAfterMs), count: a.count, avg: a.avg, min: a.min, max: a.max };
    }));
    const withData = hosts.filter((h) => h.count > 0);
    const count = withData.reduce((n, h) => n + h.count, 0);
    const avg = withData.length > 0 ? withData.reduce((s, h) => s + h.avg, 0) / withData.length : NaN;
    return {
      path, from: isoOfNs(w.fromNs), to: isoOfNs(w.toNs),
      hosts_total: hosts.length,
      hosts_online: hosts.filter((h) => h.online).length,
      hosts_with_data: withData.length,
      fleet: {
        count,
        avg: num(avg),
        min: num(withData.length > 0 ? Math.min(...withData.map((h) => h.min)) : NaN),
        max: num(withData.length > 0 ? Math.max(...withData.map((h) => h.max)) : NaN),
      },
      hosts: hosts.map((h) => ({ ...h, avg: num(h.avg), min: num(h.min), max: num(h.max) })),
    };
  });
}
