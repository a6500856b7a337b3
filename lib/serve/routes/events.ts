/**
 * `GET /api/v1/events`: Server-Sent Events telling open dashboards that a push stored samples
 * (`event: samples`, data `{"host", "samples", "last"}` per host of the push), so a page refetches
 * instead of polling. EventSource cannot send headers: the read token may come as `?token=`
 * (this route only), compared in constant time like the header's and never logged.
 */
import { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { requestToken, Tokens } from '../auth.js';
import { HttpError } from '../body.js';
import { errors, route } from '../schemas.js';
import { wallNsOf } from '../store/store.js';
import type { SampleDict } from '../../types/sample.js';

/** What the server says when a push's samples of one host are stored. */
export interface StoredEvent {
  host: string;
  /** Samples in the push (duplicates too: a page refetching for nothing is harmless). */
  samples: number;
  /** The newest sample's time (ISO 8601). */
  last: string;
}

/** Pushes → open event streams. `stored()` is called once per host of a push, after commit. */
export class ServeEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  stored(dicts: readonly SampleDict[]): void {
    if (dicts.length === 0 || this.emitter.listenerCount('stored') === 0) return;
    let last = 0n;
    for (const d of dicts) {
      const ns = wallNsOf(d);
      if (ns > last) last = ns;
    }
    this.storedOf(dicts[0].hostname, dicts.length, last);
  }

  /** `stored` told without the samples (a compact push has no dicts): host, count, newest time (ns). */
  storedOf(host: string, samples: number, lastNs: bigint): void {
    if (samples === 0 || this.emitter.listenerCount('stored') === 0) return;
    const e: StoredEvent = { host, samples, last: new Date(Number(lastNs / 1_000_000n)).toISOString() };
    this.emitter.emit('stored', e);
  }

  on(f: (e: StoredEvent) => void): () => void {
    this.emitter.on('stored', f);
    return () => this.emitter.off('stored', f);
  }
}

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

export interface EventsRouteOptions {
  events: ServeEvents;
  /** The read token; undefined: the stream is open to anyone (as the read routes are). */
  readToken?: string;
}

export function eventsRoute(app: FastifyInstance, o: EventsRouteOptions): void {
  const readTokens = o.readToken === undefined ? undefined : new Tokens().add(o.readToken, '--read-token');
  const open = new Set<() => void>();
  // A stream never ends by itself: close them so that a stopping server does not wait on them.
  app.addHook('preClose', (done) => {
    for (const end of open) end();
    done();
  });
  app.get<{ Querystring: { token?: string } }>('/api/v1/events', {
    schema: route({
      summary: 'Server-Sent Events: `event: samples` with {host, samples, last} each time a push of a host is stored (the dashboard refetches on it)',
      'x-auth': 'read',
      querystring: {
        type: 'object',
        properties: { token: { type: 'string', description: 'the read token, for clients that cannot send Authorization (EventSource); prefer the header' } },
      },
      response: {
        200: { description: 'text/event-stream, open until the client or the server closes it', 'x-content': { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errors(401, 500, 503),
      },
    }),
  }, (request, reply) => {
    if (readTokens) {
      // A token given both ways must be right both ways: a wrong one is never ignored.
      const given = [request.query.token, requestToken(request.headers)].filter((t): t is string => t !== undefined && t !== '');
      if (given.length === 0 || !given.every((t) => readTokens.check(t))) {
        void reply.header('www-authenticate', 'Bearer');
        throw new HttpError(401, 'a read token is required (Authorization: Bearer TOKEN, or ?token= for EventSource)');
      }
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The client retries after 1 s if the stream drops (a server restart).
    res.write('retry: 1000\n: connected\n\n');
    const off = o.events.on((e) => res.write(`event: samples\ndata: ${JSON.stringify(e)}\n\n`));
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const end = (): void => {
      if (!open.delete(end)) return;
      off();
      clearInterval(keepalive);
      res.end();
    };
    open.add(end);
    request.raw.on('close', end);
    res.on('close', end);
  });
}
