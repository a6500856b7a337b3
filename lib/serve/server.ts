/**
 * `hostseries serve` as a library: the HTTP(S) server (fastify) over a SampleStore, its routes, auth
 * and limits, retention (whole old chunks deleted at start and periodically), and a shutdown that
 * stops accepting, lets requests in flight finish, then closes the store.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { requestToken, Tokens } from './auth.js';
import { HttpError, type BodyLimits } from './body.js';
import type { Forward, StoredPush } from './ingest.js';
import { openApi } from './openapi.js';
import { dashboardPage, reportRoute } from './routes/dashboard.js';
import { eventsRoute, ServeEvents } from './routes/events.js';
import { exportRoute } from './routes/export.js';
import { hostsRoutes } from './routes/hosts.js';
import { samplesRoute } from './routes/samples.js';
import { metricsRoutes } from './routes/metrics.js';
import { seriesRoutes } from './routes/series.js';
import type { SampleStore } from './store/store.js';
import { isoOfNs } from './time.js';

export interface ServerOptions {
  store: SampleStore;
  host: string;
  port: number;
  /** Write tokens; undefined only with --no-auth on a loopback address. */
  tokens: Tokens | undefined;
  /** Guards the read routes when set. */
  readToken?: string;
  limits?: Partial<BodyLimits>;
  offlineAfterMs?: number;
  /** A request must be received whole within this (slow clients are cut off). */
  requestTimeoutMs?: number;
  /** An idle connection is closed after this. */
  idleTimeoutMs?: number;
  /** Where errors the server did not expect go (never a token). */
  log?: (message: string) => void;
  /** HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  /** Delete whole chunks whose last sample is older than this (ms), at start and periodically. */
  retentionMs?: number;
  /** The version the OpenAPI document states. */
  version?: string;
  /** Called with each push's samples once stored (`--remote-write` forwards them). */
  forward?: Forward;
}

/** How often retention runs: a tenth of the retention, between 1 s and 10 min. */
export function retentionCheckMs(retentionMs: number): number {
  return Math.min(600_000, Math.max(1000, Math.floor(retentionMs / 10)));
}

export const DEFAULT_LIMITS: BodyLimits = { maxBody: 16 * 1024 * 1024, maxInflated: 64 * 1024 * 1024 };

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** Stop accepting, finish the requests in flight, close the store. */
  close(): Promise<void>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const requestTimeout = o.requestTimeoutMs ?? 60_000;
  const app = Fastify({
    logger: false,
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key } } : {}),
    // A parameter fastify refuses by the route's schema: 400 naming it, as the routes' own checks do.
    schemaErrorFormatter: (errs, dataVar) => {
      const e = errs[0];
      const missing = (e?.params as { missingProperty?: string } | undefined)?.missingProperty;
      const name = e?.instancePath.replace(/^\//, '').replace(/\//g, '.') || missing || dataVar;
      return new Error(`${name}: ${e?.message ?? 'not valid'}`);
    },
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): a slow
    // client is cut off within a second of its time.
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(requestTimeout, 30_000) },
    requestTimeout,
    connectionTimeout: o.idleTimeoutMs ?? 120_000,
    keepAliveTimeout: 10_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // The push body is read by the route itself (limits, gzip); nothing else takes a body.
    bodyLimit: limits.maxBody,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const status = error instanceof HttpError ? error.status : error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    // An HttpError says what went wrong itself (503: the TSDB behind --prometheus did not answer).
    const told = error instanceof HttpError;
    if (status >= 500) o.log?.(`${request.method} ${request.url.split('?')[0]}: ${told ? error.message : error.stack ?? error.message}`);
    return reply.code(status).send({ error: status >= 500 && !told ? 'internal error (see the server log)' : error.message });
  });
  // Once stopping, each reply closes its connection: a kept-alive one would hold the exit back.
  let stopping = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (stopping) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));

  openApi(app, { write: o.tokens !== undefined, read: o.readToken !== undefined }, o.version ?? '0.0.0');
  // Open dashboards hear of each stored push (events.ts); --remote-write forwards it.
  const events = new ServeEvents();
  const stored = (push: StoredPush): void => {
    o.forward?.(push);
    events.storedOf(push.host, push.samples, push.lastNs);
  };
  samplesRoute(app, { store: o.store, tokens: o.tokens, limits, forward: stored });
  dashboardPage(app);
  eventsRoute(app, { events, readToken: o.readToken });
  await app.register((reads, _options, done) => {
    if (o.readToken !== undefined) {
      const readTokens = new Tokens().add(o.readToken, '--read-token');
      reads.addHook('onRequest', async (request, reply) => {
        if (!readTokens.check(requestToken(request.headers))) {
          void reply.header('www-authenticate', 'Bearer');
          throw new HttpError(401, 'a read token is required (Authorization: Bearer TOKEN)');
        }
      });
    }
    hostsRoutes(reads, { store: o.store, offlineAfterMs: o.offlineAfterMs });
    exportRoute(reads, o.store);
    reportRoute(reads, o.store);
    seriesRoutes(reads, { store: o.store, offlineAfterMs: o.offlineAfterMs });
    metricsRoutes(reads, { store: o.store, offlineAfterMs: o.offlineAfterMs });
    done();
  });

  let timer: NodeJS.Timeout | undefined;
  if (o.retentionMs !== undefined) {
    const retention = o.retentionMs;
    const expire = async (): Promise<void> => {
      const before = BigInt(Date.now() - retention) * 1_000_000n;
      try {
        const r = await o.store.expire(before);
        if (r.chunks > 0) o.log?.(`retention: deleted ${r.chunks} chunk${r.chunks === 1 ? '' : 's'} (${r.samples} samples) whose last sample is before ${isoOfNs(before)}`);
      } catch (e) {
        o.log?.(`retention: ${(e as Error).message}`);
      }
    };
    await expire();
    timer = setInterval(() => void expire(), retentionCheckMs(retention));
    timer.unref();
  }

  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    clearInterval(timer);
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | undefined;
  return {
    app,
    url: `${o.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    close: () => {
      stopping = true;
      clearInterval(timer);
      return (closed ??= app.close().then(async () => {
        await o.store.close();
      }));
    },
  };
}
