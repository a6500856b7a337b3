/** `GET /api/v1/hosts` and `/api/v1/hosts/:host`: what the server knows of each host, online or not. */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../body.js';
import { errors, HOST, HOSTNAME, HOSTS, route } from '../schemas.js';
import type { HostRecord, SampleStore } from '../store/store.js';

export interface HostsRouteOptions {
  store: SampleStore;
  /** A host is offline once not heard from for this long; default 3 of its push intervals. */
  offlineAfterMs?: number;
}

/** Before a host's push interval is known (one push of one sample). */
const DEFAULT_INTERVAL_MS = 60_000;

const iso = (ms: number): string => new Date(ms).toISOString();
const isoNs = (ns: bigint | null): string | null => (ns === null ? null : iso(Number(ns / 1_000_000n)));

const offlineAfter = (h: HostRecord, offlineAfterMs: number | undefined): number => offlineAfterMs ?? 3 * (h.pushIntervalMs ?? DEFAULT_INTERVAL_MS);

/**
 * Whether a host is online: heard from within `offlineAfterMs` (or 3 of its push intervals). The
 * last push and the interval are stored, so a restarted server tells the same at once.
 */
export function isOnline(h: HostRecord, nowMs: number, offlineAfterMs: number | undefined): boolean {
  return nowMs - h.lastSeenMs <= offlineAfter(h, offlineAfterMs);
}

export function hostJson(h: HostRecord, nowMs: number, offlineAfterMs: number | undefined): Record<string, unknown> {
  const after = offlineAfter(h, offlineAfterMs);
  return {
    hostname: h.hostname,
    online: isOnline(h, nowMs, offlineAfterMs),
    tags: h.tags,
    agent_version: h.agent,
    first_seen: iso(h.firstSeenMs),
    last_seen: iso(h.lastSeenMs),
    push_interval_seconds: h.pushIntervalMs === null ? null : h.pushIntervalMs / 1000,
    offline_after_seconds: after / 1000,
    samples: h.samples,
    first_sample: isoNs(h.firstNs),
    last_sample: isoNs(h.lastNs),
    disks: h.disks,
    interfaces: h.interfaces,
  };
}

export function hostsRoutes(app: FastifyInstance, o: HostsRouteOptions): void {
  app.get('/api/v1/hosts', {
    schema: route({ summary: 'every host the server has heard from, online or not (with --prometheus: every host whose samples the TSDB holds, the last 31 days)', response: { 200: HOSTS, ...errors(401, 500, 503) } }),
  }, async () => {
    const now = Date.now();
    return { hosts: (await o.store.hosts()).map((h) => hostJson(h, now, o.offlineAfterMs)) };
  });
  app.get<{ Params: { host: string } }>('/api/v1/hosts/:host', {
    schema: route({
      summary: 'one host',
      params: { type: 'object', required: ['host'], properties: { host: HOSTNAME } },
      response: { 200: HOST, ...errors(400, 401, 404, 500, 503) },
    }),
  }, async (request) => {
    const h = await o.store.host(request.params.host);
    if (!h) throw new HttpError(404, `host: no host ${JSON.stringify(request.params.host)}`);
    return hostJson(h, Date.now(), o.offlineAfterMs);
  });
}
