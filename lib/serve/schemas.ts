/**
 * JSON schemas of the routes' parameters and replies. Each route gives fastify its schema (query
 * and path parameters are validated with it, replies serialized with it) and the OpenAPI document
 * is built from those same schemas (openapi.ts), so the document cannot drift from the routes.
 */
import type { FastifySchema } from 'fastify';
import { DURATION_PATTERN, TIME_PATTERN } from './time.js';

export type Schema = Record<string, unknown>;

export const ERROR: Schema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string', description: 'what was wrong, naming the parameter or field at fault' } },
};

/** Error replies a route may give, each `{error}`. */
export function errors(...codes: number[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const c of codes) out[String(c)] = { description: ERROR_TEXT[c] ?? 'error', ...ERROR };
  return out;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'a parameter or the body is malformed (the message names it)',
  401: 'no token, or not a valid one',
  403: 'the token may not write a host of the push',
  404: 'no such host or route',
  413: 'the body, as sent or inflated, is over the limit',
  415: 'a Content-Encoding other than gzip or none',
  500: 'the server failed (see its log)',
  503: 'the server is stopping, or (serve --prometheus) the TSDB did not answer or take the samples: try again',
};

export const TIME = (what: string): Schema => ({
  type: 'string', pattern: TIME_PATTERN,
  description: `${what}: an ISO 8601 time (2026-01-24T12:00:00Z), ns since the epoch, now, or relative to now (-15m, now-2h; units ms s m h d)`,
});

export const DURATION: Schema = { type: 'string', pattern: DURATION_PATTERN, description: 'seconds, or a number with a unit: 500ms, 10s, 5m, 1h, 1d' };

export const PATH: Schema = {
  type: 'string', minLength: 1, maxLength: 512,
  description: 'a numeric sample path as the collector\'s aggregate() takes it: meminfo.MemAvailable, loadavg.load_1min, diskstats.sda.sectors_read, processes.KEY.cpu_pct, or a rate: rates.disk.sda.util, rates.cpu.all.busy, rates.net.eth0.rx_bytes_s, rates.mem.used_pct',
};

export const HOSTNAME: Schema = { type: 'string', minLength: 1, maxLength: 255 };

const NUM_OR_NULL: Schema = { type: ['number', 'null'] };
const ISO: Schema = { type: 'string', format: 'date-time' };
const ISO_OR_NULL: Schema = { type: ['string', 'null'], format: 'date-time' };

export const HOST: Schema = {
  type: 'object',
  required: ['hostname', 'online', 'tags', 'agent_version', 'first_seen', 'last_seen', 'push_interval_seconds', 'offline_after_seconds', 'samples', 'first_sample', 'last_sample', 'disks', 'interfaces'],
  properties: {
    hostname: { type: 'string' },
    online: { type: 'boolean', description: 'heard from within offline_after_seconds' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    agent_version: { type: ['string', 'null'] },
    first_seen: ISO,
    last_seen: ISO,
    push_interval_seconds: NUM_OR_NULL,
    offline_after_seconds: { type: 'number' },
    samples: { type: 'integer', minimum: 0 },
    first_sample: ISO_OR_NULL,
    last_sample: ISO_OR_NULL,
    disks: { type: 'array', items: { type: 'string' }, description: "the disks of the host's newest samples" },
    interfaces: { type: 'array', items: { type: 'string' }, description: "the network interfaces of the host's newest samples" },
  },
};

export const HOSTS: Schema = { type: 'object', required: ['hosts'], properties: { hosts: { type: 'array', items: HOST } } };

export const INGEST_REPLY: Schema = {
  type: 'object',
  required: ['accepted', 'duplicates', 'rejected'],
  properties: {
    accepted: { type: 'integer', minimum: 0 },
    duplicates: { type: 'integer', minimum: 0, description: 'samples whose host and time were stored already (or came twice in the push)' },
    rejected: {
      type: 'array',
      items: {
        type: 'object', required: ['index', 'path', 'reason'],
        properties: { index: { type: 'integer', minimum: 0 }, path: { type: 'string', description: "the field at fault, '' for the sample as a whole" }, reason: { type: 'string' } },
      },
    },
  },
};

/** A sample as the file format has it (checked in full by TimeSeriesSample.fromDict). */
const SAMPLE: Schema = {
  type: 'object',
  required: ['timestamp', 'hostname'],
  properties: {
    timestamp: { type: 'string', description: 'YYYY-MM-DDTHH:MM:SSZ (the whole UTC second of timestamp_ns when it is given)' },
    timestamp_ns: { type: 'integer', description: 'the precise wall time, ns since the epoch' },
    hostname: { type: 'string', minLength: 1 },
    diskstats: { type: 'array', items: { type: 'object' } },
    vmstat: { type: 'object' },
    meminfo: { type: 'object' },
    loadavg: { type: 'object' },
    netdev: { type: 'array', items: { type: 'object' } },
    stat: { type: 'object' },
    processes: { type: 'array', items: { type: 'object' } },
    app: { type: 'object' },
    errors: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

export const SAMPLES_BODY: Schema = {
  required: true,
  description: 'samples as a JSON array or JSON Lines (one sample a line), or the compact body (application/vnd.hostseries.blob), optionally gzipped (Content-Encoding: gzip)',
  content: {
    'application/json': { schema: { type: 'array', items: SAMPLE } },
    'application/x-ndjson': { schema: { type: 'string', description: 'one sample (see application/json) a line' } },
    'application/vnd.hostseries.blob': {
      schema: {
        type: 'string', format: 'binary',
        description: "the agent's compact body (docs/agent.md): \"HSPB\", a u32 LE length n, n bytes of a JSON array of the layouts "
          + '({layout, hostname, ns}), then the core\'s sample blob ("HSB1"); checked as JSON samples are (400 naming what is wrong; '
          + 'per-sample reasons as for JSON). Any other Content-Type is read as JSON or JSON Lines.',
      },
    },
  },
};

export const TIME_SERIES_DATA: Schema = {
  type: 'object',
  required: ['collection_interval_seconds', 'start_time', 'end_time', 'num_samples', 'samples_by_host', 'collection_method', 'hosts_requested', 'hosts_collected'],
  properties: {
    collection_interval_seconds: { type: 'number' },
    start_time: { type: 'string' },
    end_time: { type: 'string' },
    num_samples: { type: 'integer' },
    samples_by_host: { type: 'object', additionalProperties: { type: 'array', items: SAMPLE } },
    collection_method: { type: 'string' },
    hosts_requested: { type: 'array', items: { type: 'string' } },
    hosts_collected: { type: 'array', items: { type: 'string' } },
  },
};

const STATS = {
  count: { type: 'integer', minimum: 0 },
  avg: NUM_OR_NULL,
  min: NUM_OR_NULL,
  max: NUM_OR_NULL,
};

const WINDOW = { from: ISO, to: ISO };

export const SERIES: Schema = {
  type: 'object',
  required: ['host', 'path', 'from', 'to', 'step_seconds', 'points'],
  properties: {
    host: { type: 'string' }, path: { type: 'string' }, ...WINDOW,
    step_seconds: { type: 'number' },
    points: {
      type: 'array',
      description: 'the buckets with values, in time order (a bucket without values is left out)',
      items: {
        type: 'object', required: ['time', 'avg', 'min', 'max', 'count'],
        properties: { time: { ...ISO, description: "the bucket's start" }, avg: { type: 'number' }, min: { type: 'number' }, max: { type: 'number' }, count: { type: 'integer', minimum: 1 } },
      },
    },
  },
};

export const AGGREGATE: Schema = {
  type: 'object',
  required: ['host', 'path', 'from', 'to', 'count', 'span_seconds', 'avg', 'min', 'max', 'p95'],
  properties: {
    host: { type: 'string' }, path: { type: 'string' }, ...WINDOW, ...STATS,
    span_seconds: { type: 'number' },
    p95: { ...NUM_OR_NULL, description: 'nearest-rank 95th percentile' },
  },
};

export const FLEET: Schema = {
  type: 'object',
  required: ['path', 'from', 'to', 'hosts_total', 'hosts_online', 'hosts_with_data', 'fleet', 'hosts'],
  properties: {
    path: { type: 'string' }, ...WINDOW,
    hosts_total: { type: 'integer', minimum: 0 },
    hosts_online: { type: 'integer', minimum: 0 },
    hosts_with_data: { type: 'integer', minimum: 0 },
    fleet: {
      type: 'object', required: ['count', 'avg', 'min', 'max'], properties: { ...STATS, avg: { ...NUM_OR_NULL, description: 'the mean of the hosts\' averages (each host weighs the same)' } },
    },
    hosts: {
      type: 'array',
      items: { type: 'object', required: ['hostname', 'online', 'count', 'avg', 'min', 'max'], properties: { hostname: { type: 'string' }, online: { type: 'boolean' }, ...STATS } },
    },
  },
};

/** A route's schema as fastify takes it (the OpenAPI-only keys, `summary`, `x-...`, ride along). */
export const route = (s: Schema): FastifySchema => s;
