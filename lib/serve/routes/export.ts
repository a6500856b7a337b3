/**
 * `GET /api/v1/export?from&to&hosts`: a window of samples as a TimeSeriesData file in the
 * mlpstorage format (the same bytes `writeTimeSeriesJson` writes), so a harness that knows its
 * run's start and end gets the run from the server. `from`/`to` are times as time.ts reads them
 * (inclusive; default: all), `hosts` a comma-separated list (default: every host).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { timeSeriesJsonChunks } from '../../files/json-file.js';
import { TimeSeriesData } from '../../models/data.js';
import { TimeSeriesSample } from '../../models/sample.js';
import { isoSeconds } from '../../native/decode.js';
import { HttpError } from '../body.js';
import { errors, route, TIME, TIME_SERIES_DATA } from '../schemas.js';
import type { SampleStore } from '../store/store.js';
import { NS_MAX, parseTime } from '../time.js';

/** The median time between samples (s, to the ms): the file's interval. */
export function medianSpacingSeconds(samples: readonly TimeSeriesSample[]): number {
  const t = samples.map((s) => (s.timestampNs !== undefined ? s.timestampNs / 1e9 : Date.parse(s.timestamp) / 1000));
  if (t.length < 2) return 0;
  const gaps = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b);
  return Math.round(gaps[Math.floor(gaps.length / 2)] * 1000) / 1000;
}

export function exportRoute(app: FastifyInstance, store: SampleStore): void {
  app.get<{ Querystring: { from?: string; to?: string; hosts?: string } }>('/api/v1/export', {
    schema: route({
      summary: 'a window of samples as a TimeSeriesData file (the mlpstorage format)',
      querystring: {
        type: 'object',
        properties: {
          from: TIME('the first sample time (inclusive; default: the first stored)'),
          to: TIME('the last sample time (inclusive; default: the last stored)'),
          hosts: { type: 'string', description: 'comma-separated hostnames (default: every host)' },
        },
      },
      response: { 200: TIME_SERIES_DATA, ...errors(400, 401, 500, 503) },
    }),
  }, async (request, reply) => {
    const q = request.query;
    const now = Date.now();
    const from = parseTime(q.from, 'from', now) ?? 0n;
    const to = parseTime(q.to, 'to', now) ?? NS_MAX;
    if (to < from) throw new HttpError(400, 'to: before from');
    const hosts = q.hosts ? q.hosts.split(',').map((h) => h.trim()).filter(Boolean) : (await store.hosts()).map((h) => h.hostname);
    const samplesByHost = new Map<string, TimeSeriesSample[]>();
    for (const h of hosts) samplesByHost.set(h, (await store.window(h, from, to)).map((d) => TimeSeriesSample.fromTrustedDict(d)));
    const all = [...samplesByHost.values()];
    const firstOf = all.map((s) => s[0]).filter(Boolean).sort((a, b) => a.date.getTime() - b.date.getTime())[0];
    const lastOf = all.map((s) => s[s.length - 1]).filter(Boolean).sort((a, b) => b.date.getTime() - a.date.getTime())[0];
    const data = TimeSeriesData.forHosts({
      collectionIntervalSeconds: medianSpacingSeconds(all.find((s) => s.length > 1) ?? []),
      startTime: q.from ? isoSeconds(Number(from / 1_000_000n)) : firstOf?.timestamp ?? '',
      endTime: q.to ? isoSeconds(Number(to / 1_000_000n)) : lastOf?.timestamp ?? '',
      hostsRequested: hosts,
      samplesByHost,
    });
    return reply.type('application/json').send(Readable.from(timeSeriesJsonChunks(data)));
  });
}
