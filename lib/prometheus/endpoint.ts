/**
 * `/metrics` over HTTP for a scraper: the families of the latest sample(s), in the text format
 * or OpenMetrics as the scraper's Accept header asks, each value stamped with the time it was
 * measured (the sample's time, not the scrape's: a sampler at 10 s scraped every 15 s puts each
 * value where it belongs). `agent --metrics-listen` serves one host; `serve` serves each host it
 * holds under a `host` label.
 */
import Fastify, { type FastifyInstance, type FastifySchema } from 'fastify';
import type { AddressInfo } from 'node:net';

import type { SampleDict } from '../types/sample.js';
import { formatExposition, mergeFamilies, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, wantsOpenMetrics } from './exposition.js';
import { sampleFamilies, type FamilyOptions, type MetricFamily } from './families.js';

/** What /metrics shows: the latest sample of each source, with the labels that tell them apart. */
export type MetricsSource = () => readonly { labels: readonly (readonly [string, string])[]; sample: SampleDict }[] | Promise<readonly { labels: readonly (readonly [string, string])[]; sample: SampleDict }[]>;

/** The exposition of `source`'s samples, each value stamped with its sample's time. */
export async function metricsText(source: MetricsSource, openMetrics: boolean, o: FamilyOptions = {}): Promise<string> {
  const latest = await source();
  const families: MetricFamily[] = mergeFamilies(latest.map(({ labels, sample }) => ({ labels, families: sampleFamilies(sample, o), timestampMs: sampleMs(sample) })));
  return formatExposition(families, { openMetrics });
}

const sampleMs = (s: SampleDict): number => (s.timestamp_ns !== undefined ? Math.floor(s.timestamp_ns / 1e6) : Date.parse(s.timestamp));

/** Add `GET /metrics` to a fastify app (`schema`: the route's, e.g. for an OpenAPI document). */
export function metricsRoute(app: FastifyInstance, source: MetricsSource, o: FamilyOptions = {}, schema?: FastifySchema): void {
  app.get('/metrics', schema ? { schema } : {}, async (request, reply) => {
    const om = wantsOpenMetrics(request.headers.accept);
    return reply.type(om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE).send(await metricsText(source, om, o));
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
