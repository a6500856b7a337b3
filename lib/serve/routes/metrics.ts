/**
 * `GET /metrics`: every online host's latest sample under node_exporter's names (lib/prometheus),
 * each series labelled `instance` (the hostname) and stamped with its sample's time, for a
 * Prometheus scraping the server (with `honor_labels: true` the `instance` is the host's; else
 * Prometheus keeps it as `exported_instance`).
 */
import type { FastifyInstance } from 'fastify';
import { metricsRoute } from '../../prometheus/endpoint.js';
import { errors, route } from '../schemas.js';
import type { SampleStore } from '../store/store.js';
import { isOnline } from './hosts.js';

export interface MetricsRouteOptions {
  store: SampleStore;
  offlineAfterMs?: number;
}

export function metricsRoutes(app: FastifyInstance, o: MetricsRouteOptions): void {
  metricsRoute(app, async () => {
    const now = Date.now();
    const out = [];
    for (const h of await o.store.hosts()) {
      if (h.lastNs === null || !isOnline(h, now, o.offlineAfterMs)) continue;
      const [sample] = await o.store.window(h.hostname, h.lastNs, h.lastNs);
      if (sample) out.push({ labels: [['instance', h.hostname]] as const, sample });
    }
    return out;
  }, {}, route({
    summary: "every online host's latest sample in the Prometheus text format (OpenMetrics when Accept asks), node_exporter's names, an `instance` label per host",
    'x-auth': 'read',
    response: {
      200: { description: 'text/plain; version=0.0.4 (or application/openmetrics-text; version=1.0.0)', 'x-content': { 'text/plain': { schema: { type: 'string' } } } },
      ...errors(401, 500, 503),
    },
  }));
}
