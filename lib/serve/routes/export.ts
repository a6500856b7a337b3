/**
 * `GET /api/v1/export?from&to&hosts`: a window of samples as a TimeSeriesData file in the
 * mlpstorage format (the same bytes `writeTimeSeriesJson` writes), so a harness that knows its
 * run's start and end gets the run from the server. `from`/`to` are ISO 8601 times or ns since the
 * epoch (inclusive; default: all), `hosts` a comma-separated list (default: every host).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { timeSeriesJsonChunks } from '../../files/json-file.js';
import { TimeSeriesData } from '../../models/data.js';
import { TimeSeriesSample } from '../../models/sample.js';
import { isoSeconds } from '../../native/decode.js';
import { HttpError } from '../body.js';
import type { SampleStore } from '../store/store.js';

const NS_MAX = 2n ** 63n - 1n;

/** An ISO time or ns since the epoch → ns. */
export function parseTime(v: string | undefined, name: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) {
    const ns = BigInt(v);
    if (ns > NS_MAX) throw new HttpError(400, `${name}: out of range`);
    return ns;
  }
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) throw new HttpError(400, `${name}: expected an ISO 8601 time (2026-01-24T12:00:00Z) or ns since the epoch, got ${JSON.stringify(v)}`);
  if (ms < 0) throw new HttpError(400, `${name}: before 1970`);
  return BigInt(ms) * 1_000_000n;
}

function medianSpacingSeconds(samples: readonly TimeSeriesSample[]): number {
  const t = samples.map((s) => (s.timestampNs !== undefined ? s.timestampNs / 1e9 : Date.parse(s.timestamp) / 1000));
  if (t.length < 2) return 0;
  const gaps = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b);
  return Math.round(gaps[Math.floor(gaps.length / 2)] * 1000) / 1000;
}

export function exportRoute(app: FastifyInstance, store: SampleStore): void {
  app.get<{ Querystring: { from?: string; to?: string; hosts?: string } }>('/api/v1/export', async (request, reply) => {
    const q = request.query;
    const from = parseTime(q.from, 'from') ?? 0n;
    const to = parseTime(q.to, 'to') ?? NS_MAX;
    if (to < from) throw new HttpError(400, 'to: before from');
    const hosts = q.hosts ? q.hosts.split(',').map((h) => h.trim()).filter(Boolean) : store.hosts().map((h) => h.hostname);
    const samplesByHost = new Map<string, TimeSeriesSample[]>();
    for (const h of hosts) samplesByHost.set(h, store.window(h, from, to).map((d) => TimeSeriesSample.fromDict(d)));
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
