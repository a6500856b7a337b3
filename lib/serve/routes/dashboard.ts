/**
 * `serve`'s dashboard: `GET /` is the report's UI (web/dashboard/, built into dist/web/) reading the
 * read API, and `GET /api/v1/report?from&to&hosts` is a window of stored samples as the report's
 * data (lib/report's model: meta and base64 gzip blobs, rates from lib/rates as in `report`), so
 * the page and `hostseries report` draw the same figures from the same code. The page and its
 * assets hold no data and are open; the data routes are guarded by the read token.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { TimeSeriesData } from '../../models/data.js';
import { TimeSeriesSample } from '../../models/sample.js';
import { isoSeconds } from '../../native/decode.js';
import { buildReportModel } from '../../report/build.js';
import { HttpError } from '../body.js';
import { medianSpacingSeconds } from './export.js';
import { errors, route, TIME } from '../schemas.js';
import type { SampleStore } from '../store/store.js';
import { parseWindow } from '../time.js';

/** dist/web/ beside the built lib (dist/serve/routes → dist/web), or the package's dist/ from the sources. */
const WEB_DIRS = [join(__dirname, '..', '..', 'web'), join(__dirname, '..', '..', '..', 'dist', 'web')];

async function asset(name: string): Promise<Buffer> {
  let first: unknown;
  for (const dir of WEB_DIRS) {
    try {
      return await readFile(join(dir, name));
    } catch (e) {
      first ??= e;
    }
  }
  throw new Error(`the dashboard UI is not built (${(first as Error).message}); run npm run build`);
}

/** The page: no inline script; data only from this server (connect-src for fetch and EventSource). */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = [
  '<!doctype html>',
  '<html lang="en"><head><meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  '<title>hostseries dashboard</title>',
  '<link rel="stylesheet" href="/assets/dashboard.css">',
  '</head><body><div id="app" class="hs-app"><p class="hs-loading">Loading the dashboard…</p></div>',
  '<script src="/assets/dashboard.js"></script>',
  '</body></html>',
  '',
].join('\n');

const MEDIA: Record<string, string> = { 'dashboard.js': 'text/javascript; charset=utf-8', 'dashboard.css': 'text/css; charset=utf-8' };

/** `/` and its assets (no token: they hold no data). */
export function dashboardPage(app: FastifyInstance): void {
  app.get('/', {
    schema: route({
      summary: 'the live dashboard (HTML): overview, host and compare views over the read API',
      'x-auth': 'none',
      response: { 200: { description: 'text/html', 'x-content': { 'text/html': { schema: { type: 'string' } } } }, ...errors(500, 503) },
    }),
  }, (_request, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).header('cache-control', 'no-store').send(PAGE));
  app.get<{ Params: { file: string } }>('/assets/:file', (request, reply) => {
    const type = MEDIA[request.params.file];
    if (!type) throw new HttpError(404, `no asset ${JSON.stringify(request.params.file)}`);
    return asset(request.params.file).then((body) => reply.type(type).header('cache-control', 'no-cache').send(body));
  });
}

/** `GET /api/v1/report`: the report's data for a window (guarded like the other reads). */
export function reportRoute(app: FastifyInstance, store: SampleStore): void {
  app.get<{ Querystring: { from?: string; to?: string; hosts?: string } }>('/api/v1/report', {
    schema: route({
      summary: "a window of samples as the HTML report's data (what `hostseries report` inlines): meta and gzip blobs, base64; the dashboard reads it",
      querystring: {
        type: 'object',
        properties: {
          from: TIME('the window\'s start (default: an hour before `to`)'),
          to: TIME('the window\'s end (default: now)'),
          hosts: { type: 'string', description: 'comma-separated hostnames (default: every host)' },
        },
      },
      response: {
        200: {
          description: 'the report model: `meta` (lib/report/report-data.ts ReportMeta) and `blobs` (id → base64 of gzipped f32/f64 columns)',
          type: 'object', required: ['meta', 'blobs', 'from', 'to'],
          properties: {
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            meta: { type: 'object', additionalProperties: true },
            blobs: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        ...errors(400, 401, 500, 503),
      },
    }),
  }, async (request) => {
    const q = request.query;
    const { fromNs, toNs } = parseWindow(q, 3_600_000);
    const known = (await store.hosts()).map((h) => h.hostname).sort();
    const hosts = q.hosts ? [...new Set(q.hosts.split(',').map((h) => h.trim()).filter(Boolean))] : known;
    const samplesByHost = new Map<string, TimeSeriesSample[]>();
    let interval = 0;
    // Asked all at once: a store over the network reads many hosts in one query (prometheus.ts).
    const windows = await Promise.all(hosts.map(async (h) => store.window(h, fromNs, toNs)));
    hosts.forEach((h, i) => {
      const s = windows[i].map((d) => TimeSeriesSample.fromTrustedDict(d));
      samplesByHost.set(h, s);
      interval ||= medianSpacingSeconds(s);
    });
    const from = isoSeconds(Number(fromNs / 1_000_000n));
    const to = isoSeconds(Number(toNs / 1_000_000n));
    const data = TimeSeriesData.forHosts({ collectionIntervalSeconds: interval, startTime: from, endTime: to, hostsRequested: hosts, samplesByHost });
    const model = buildReportModel([{ file: `samples stored from ${from.replace('T', ' ').replace('Z', '')} to ${to.slice(11, 19)} UTC`, data }], 'hostseries dashboard');
    // The overview says how the samples came: agents pushed them.
    for (const r of model.meta.runs) r.collectionMethod = 'push';
    return { from: new Date(Number(fromNs / 1_000_000n)).toISOString(), to: new Date(Number(toNs / 1_000_000n)).toISOString(), meta: model.meta, blobs: Object.fromEntries(model.blobs) };
  });
}
