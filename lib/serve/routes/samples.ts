/** `POST /api/v1/samples`: an agent's push (see ingest.ts; the reply says what became of each sample). */
import type { FastifyInstance } from 'fastify';
import { requestToken, type Tokens } from '../auth.js';
import { encodingOf, HttpError, inflate, parseSamples, readBody, type BodyLimits } from '../body.js';
import { ingest, parseTags, type Forward } from '../ingest.js';
import { ingestBlob } from '../ingest-blob.js';
import { errors, INGEST_REPLY, route, SAMPLES_BODY } from '../schemas.js';
import type { SampleStore } from '../store/store.js';
import { BLOB_CONTENT_TYPE } from '../../push/blob-body.js';

export interface SamplesRouteOptions {
  store: SampleStore;
  /** undefined: no auth (--no-auth, loopback only). */
  tokens: Tokens | undefined;
  limits: BodyLimits;
  /** Called per host of a push once its samples are stored. */
  forward?: Forward;
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/** The compact body (its media type, parameters aside), else JSON or JSON Lines as before. */
const isBlob = (contentType: string | undefined): boolean => (contentType ?? '').split(';')[0].trim().toLowerCase() === BLOB_CONTENT_TYPE;

export function samplesRoute(app: FastifyInstance, o: SamplesRouteOptions): void {
  app.post('/api/v1/samples', {
    schema: route({
      summary: "an agent's push: samples stored idempotently (host + time), the reply says what became of each",
      // The body is read by the route (limits, gzip), not by fastify: documented, not validated here.
      'x-requestBody': SAMPLES_BODY,
      'x-headers': {
        'Content-Encoding': { type: 'string', enum: ['gzip', 'x-gzip', 'identity'], description: 'gzip, or none' },
        'Content-Type': { type: 'string', description: `${BLOB_CONTENT_TYPE}: the compact body; anything else: JSON or JSON Lines` },
        'X-Hostseries-Tags': { type: 'string', description: 'k=v[,k=v...]: the host\'s tags (absent: unchanged)' },
        'X-Hostseries-Agent': { type: 'string', description: "the agent's version (absent: unchanged)" },
      },
      'x-auth': 'write',
      response: { 200: INGEST_REPLY, ...errors(400, 401, 403, 413, 415, 500, 503), 408: { description: 'the request did not arrive whole within the server\'s request timeout (the connection is closed)' } },
    }),
  }, async (request, reply) => {
    const grant = o.tokens ? o.tokens.check(requestToken(request.headers)) : { hosts: '*' as const };
    if (!grant) {
      void reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, requestToken(request.headers) === undefined ? 'a token is required (Authorization: Bearer TOKEN)' : 'the token is not valid');
    }
    // Checked before reading: nothing of a body we cannot decode is read.
    const encoding = encodingOf(header(request.headers['content-encoding']));
    const raw = await readBody(request.raw, o.limits.maxBody);
    const inflated = await inflate(raw, encoding, o.limits.maxInflated);
    const meta = {
      tags: parseTags(header(request.headers['x-hostseries-tags'])),
      agent: header(request.headers['x-hostseries-agent']),
      receivedMs: Date.now(),
    };
    if (isBlob(header(request.headers['content-type']))) {
      // Decoded values are 8 bytes each: bounded as the inflated body is.
      const maxValues = Math.max(1, Math.floor(o.limits.maxInflated / 8));
      return reply.code(200).send(await ingestBlob(o.store, inflated, grant, meta, maxValues, o.forward));
    }
    const body = parseSamples(inflated.toString('utf8'));
    return reply.code(200).send(await ingest(o.store, body, grant, meta, o.forward));
  });
}
