/**
 * `/metrics` over HTTP for a scraper: the families of the latest sample(s), in the text format
 * or OpenMetrics as the scraper's Accept header asks, each value stamped with the time it was
 * measured (the sample's time, not the scrape's: a sampler at 10 s scraped every 15 s puts each
 * value where it belongs). `agent --metrics-listen` serves one host; `serve` serves each host it
 * holds under a `host` label.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';

import type { SampleDict } from '../types/sample.js';
import { formatExposition, mergeFamilies, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, wantsOpenMetrics } from './exposition.js';
import { sampleFamilies, type FamilyOptions, type MetricFamily } from './families.js';

/** What /metrics shows: the latest sample of each source, with the labels that tell them apart. */
export type MetricsSource = () => readonly { labels: readonly (readonly [string, string])[]; sample: SampleDict }[];

/** The exposition of `source`'s samples (one host: stamped with its sample's time). */
export function metricsText(source: MetricsSource, openMetrics: boolean, o: FamilyOptions = {}): string {
  const latest = source();
  if (latest.length === 1 && latest[0].labels.length === 0) {
    const s = latest[0].sample;
    return formatExposition(sampleFamilies(s, o), { openMetrics, timestampMs: sampleMs(s) });
  }
  const families: MetricFamily[] = mergeFamilies(latest.map(({ labels, sample }) => ({ labels, families: sampleFamilies(sample, o) })));
  return formatExposition(families, { openMetrics });
}

const sampleMs = (s: SampleDict): number => (s.timestamp_ns !== undefined ? Math.floor(s.timestamp_ns / 1e6) : Date.parse(s.timestamp));

/** Add `GET /metrics` to a fastify app. */
export function metricsRoute(app: FastifyInstance, source: MetricsSource, o: FamilyOptions = {}): void {
  app.get('/metrics', async (request, reply) => {
    const om = wantsOpenMetrics(request.headers.accept);
    return reply.type(om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE).send(metricsText(source, om, o));
  });
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** A server of `/metrics` alone on `host:port` (port 0: a free one). */
export async function startMetricsServer(host: string, port: number, source: MetricsSource, o: FamilyOptions = {}): Promise<MetricsServer> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  metricsRoute(app, source, o);
  await app.listen({ host, port });
  const addr = app.server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { url: `http://${h}:${addr.port}/metrics`, close: () => app.close() };
}
