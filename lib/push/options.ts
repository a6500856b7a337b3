/** PushSink's options, checked (each error names the option and the value at fault), with defaults. */
import { InvalidOptionError } from '../errors.js';
import type { PushLogger, PushSinkOptions } from '../types/push.js';

export interface PushConfig {
  /** The push endpoint (`…/api/v1/samples`). */
  endpoint: URL;
  /** The server as given, for messages (no credentials). */
  server: string;
  /** Empty: none (remote write without authentication). */
  token: string;
  protocol: 'hostseries' | 'remote-write';
  /** The tags as given (remote write sends them as labels). */
  tags: Record<string, string>;
  queueDir: string | undefined;
  pushIntervalMs: number;
  tagsHeader: string | undefined;
  /** The body to serve: the compact blob, or JSON Lines (remote write has its own). */
  format: 'blob' | 'jsonl';
  gzip: boolean;
  maxQueueBytes: number;
  maxQueueAgeMs: number;
  maxBatchBytes: number;
  retryInitialMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  closeTimeoutMs: number;
  ca: string | Buffer | undefined;
  insecure: boolean;
  agent: string;
  logger: PushLogger;
}

const describe = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function num(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidOptionError(`${name} must be a number from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** `http(s)://host[:port][/base]` → the server (for messages) and the push endpoint. */
export function serverUrl(value: unknown, name = 'server'): { server: string; endpoint: URL } {
  let url: URL | undefined;
  try {
    if (typeof value === 'string') url = new URL(value);
  } catch { /* below */ }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new InvalidOptionError(`${name}: expected an http:// or https:// URL such as http://aggregator:9000, got ${describe(value)}`);
  }
  if (url.username || url.password) throw new InvalidOptionError(`${name}: give the token separately, not in the URL`);
  if (url.search || url.hash) throw new InvalidOptionError(`${name}: expected the server's base URL, without ?query or #fragment, got ${describe(value)}`);
  const base = url.pathname.replace(/\/+$/, '');
  const server = `${url.protocol}//${url.host}${base}`;
  return { server, endpoint: new URL(`${server}/api/v1/samples`) };
}

/** A remote-write receiver's URL, used as it is (`http://prometheus:9090/api/v1/write`). */
export function receiverUrl(value: unknown, name = 'server'): { server: string; endpoint: URL } {
  let url: URL | undefined;
  try {
    if (typeof value === 'string') url = new URL(value);
  } catch { /* below */ }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new InvalidOptionError(`${name}: expected the receiver's http:// or https:// write URL such as http://prometheus:9090/api/v1/write, got ${describe(value)}`);
  }
  if (url.username || url.password) throw new InvalidOptionError(`${name}: give the token separately, not in the URL`);
  return { server: `${url.protocol}//${url.host}${url.pathname}`, endpoint: url };
}

/** A token as a header carries it: non-empty, no white space or control characters. */
export function checkToken(value: unknown, where = 'token'): string {
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(`${where}: a token is required (a non-empty string)`);
  if (/[\s\u0000-\u001f\u007f]/.test(value)) throw new InvalidOptionError(`${where}: a token must not contain white space or control characters`);
  return value;
}

/** Tags → `k=v,k2=v2`, each checked: the server splits on `,` and the first `=`. */
export function tagsHeader(tags: unknown, name = 'tags'): string | undefined {
  if (tags === undefined) return undefined;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new InvalidOptionError(`${name} must be an object of strings ({ rack: 'r1' })`);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(tags)) {
    checkTag(k, v, `${name}.${k}`);
    parts.push(`${k}=${v as string}`);
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

export function checkTag(key: string, value: unknown, where: string): void {
  if (key.trim() === '' || /[,=\s\u0000-\u001f\u007f]/.test(key)) {
    throw new InvalidOptionError(`${where}: a tag key must be non-empty, without ',', '=', white space or control characters`);
  }
  if (typeof value !== 'string' || /[,\u0000-\u001f\u007f]/.test(value) || value !== value.trim()) {
    throw new InvalidOptionError(`${where}: a tag value must be a string without ',', control characters or white space at either end, got ${describe(value)}`);
  }
}

export const defaultPushLogger: PushLogger = { warn: (m) => process.emitWarning(`hostseries push: ${m}`, 'HostseriesWarning') };

export function pushConfig(o: PushSinkOptions, version: string): PushConfig {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('PushSink options must be an object ({ server, token })');
  const protocol = o.protocol ?? 'hostseries';
  if (protocol !== 'hostseries' && protocol !== 'remote-write') throw new InvalidOptionError(`protocol must be 'hostseries' or 'remote-write', got ${describe(protocol)}`);
  const { server, endpoint } = protocol === 'remote-write' ? receiverUrl(o.server) : serverUrl(o.server);
  if (o.queueDir !== undefined && (typeof o.queueDir !== 'string' || o.queueDir === '')) throw new InvalidOptionError(`queueDir must be a directory name, got ${describe(o.queueDir)}`);
  if (o.ca !== undefined && typeof o.ca !== 'string' && !Buffer.isBuffer(o.ca)) throw new InvalidOptionError('ca must be PEM text (a string or a Buffer)');
  const retryInitialMs = num('retryInitialSeconds', o.retryInitialSeconds, 1, 0.01, 3600) * 1000;
  const format = o.format ?? 'blob';
  if (format !== 'blob' && format !== 'jsonl') throw new InvalidOptionError(`format must be 'blob' or 'jsonl', got ${describe(format)}`);
  const logger = o.logger ?? defaultPushLogger;
  if (typeof logger.warn !== 'function') throw new InvalidOptionError('logger must have a warn(message) method');
  return {
    endpoint, server,
    token: protocol === 'remote-write' && o.token === undefined ? '' : checkToken(o.token),
    protocol,
    tags: { ...o.tags },
    queueDir: o.queueDir,
    pushIntervalMs: num('pushIntervalSeconds', o.pushIntervalSeconds, 10, 0.01, 86_400) * 1000,
    tagsHeader: tagsHeader(o.tags),
    format,
    gzip: o.gzip ?? true,
    maxQueueBytes: num('maxQueueBytes', o.maxQueueBytes, 64 * 1024 * 1024, 16 * 1024, Number.MAX_SAFE_INTEGER),
    maxQueueAgeMs: num('maxQueueAgeSeconds', o.maxQueueAgeSeconds, 86_400, 1, 10 * 365 * 86_400) * 1000,
    maxBatchBytes: num('maxBatchBytes', o.maxBatchBytes, 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    retryInitialMs,
    retryMaxMs: Math.max(retryInitialMs, num('retryMaxSeconds', o.retryMaxSeconds, 60, 0.01, 86_400) * 1000),
    requestTimeoutMs: num('requestTimeoutSeconds', o.requestTimeoutSeconds, 30, 0.1, 3600) * 1000,
    closeTimeoutMs: num('closeTimeoutSeconds', o.closeTimeoutSeconds, 5, 0, 3600) * 1000,
    ca: o.ca,
    insecure: o.insecure ?? false,
    agent: o.agent ?? `hostseries/${version}`,
    logger,
  };
}
