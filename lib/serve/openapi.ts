/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, built from the schemas the routes gave
 * fastify (collected as each route is added), so what it says is what the routes validate and
 * reply. Security is stated as this server runs: a route guarded only when its token is set.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { errors, route, type Schema } from './schemas.js';

export interface AuthState {
  /** Pushes need a token (false only with --no-auth). */
  write: boolean;
  /** Reads need the read token. */
  read: boolean;
}

interface Collected {
  method: string;
  url: string;
  schema: Schema;
}

const SECURITY = [{ bearer: [] }, { token_header: [] }];

/** `/api/v1/hosts/:host` → `/api/v1/hosts/{host}`. */
const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(where: 'query' | 'path', s: Schema | undefined): Schema[] {
  if (!s) return [];
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

function responses(r: Record<string, Schema> | undefined): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [code, s] of Object.entries(r ?? {})) {
    const { description, 'x-content': content, ...schema } = s;
    const hasBody = 'type' in schema || 'properties' in schema;
    // A reply that is not JSON (the /metrics text) names its content type itself.
    out[code] = { description: description ?? 'OK', ...(content ? { content } : hasBody ? { content: { 'application/json': { schema } } } : {}) };
  }
  return out;
}

function operation(c: Collected, auth: AuthState): Schema {
  const s = c.schema;
  const kind = (s['x-auth'] as string | undefined) ?? 'read';
  const guarded = kind === 'write' ? auth.write : kind === 'read' ? auth.read : false;
  const headers = Object.entries((s['x-headers'] ?? {}) as Record<string, Schema>).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'header', required: false, description, schema: rest };
  });
  const op: Schema = {
    summary: s.summary,
    parameters: [...parameters('path', s.params as Schema | undefined), ...parameters('query', s.querystring as Schema | undefined), ...headers],
    responses: responses(s.response as Record<string, Schema> | undefined),
    security: guarded ? SECURITY : [],
  };
  if (s['x-requestBody']) op.requestBody = s['x-requestBody'];
  return op;
}

/** Collects the routes of `app` (call before adding them) and serves the document they make. */
export function openApi(app: FastifyInstance, auth: AuthState, version: string): void {
  const routes: Collected[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) if (m !== 'HEAD' && r.schema) routes.push({ method: m.toLowerCase(), url: r.url, schema: r.schema as Schema });
  });
  let doc: Schema | undefined;
  const document = (): Schema => {
    if (doc) return doc;
    const paths: Record<string, Record<string, Schema>> = {};
    for (const c of routes) (paths[openApiPath(c.url)] ??= {})[c.method] = operation(c, auth);
    doc = {
      openapi: '3.1.0',
      info: { title: 'hostseries serve', version, description: 'Agents push samples; the read API answers per host and across the fleet. Errors reply {"error": "..."} naming the parameter or field at fault.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer TOKEN' },
          token_header: { type: 'apiKey', in: 'header', name: 'X-Hostseries-Token' },
        },
      },
      paths,
    };
    return doc;
  };
  app.get('/api/v1/openapi.json', {
    schema: route({
      summary: 'this document',
      'x-auth': 'none',
      response: { 200: { description: 'the OpenAPI 3.1 document', type: 'object', additionalProperties: true }, ...errors(500, 503) },
    }),
  }, () => document());
}
