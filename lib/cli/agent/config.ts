/**
 * The agent's settings: the YAML config file (`--config`), the flags and the environment, merged
 * (flags win, then HOSTSERIES_TOKEN, then the file), checked, with defaults. Every error names
 * the input at fault: the flag, or the file and its key.
 *
 *     server: https://aggregator:9000
 *     token-file: /etc/hostseries/token       # relative paths: from the config file's directory
 *     interval: 10
 *     push-interval: 10
 *     tags: { rack: r12, role: storage }       # or a list of k=v
 *     hostname: node01
 *     queue-dir: /var/lib/hostseries/queue
 *     queue-max-bytes: 64M
 *     queue-max-age: 24h
 *     ca: /etc/hostseries/server.pem
 *     watch: [name:postgres]
 *     metrics: [diskstats, meminfo]
 *     remote-write: http://victoria:8428/api/v1/write   # also (or only) to a Prometheus-compatible TSDB
 *     remote-write-token-file: /etc/hostseries/rw-token
 *     metrics-listen: 127.0.0.1:9101                   # /metrics for a scraper, node_exporter's names
 *
 * Keys may be written with `-` or `_`; an unknown key is an error (a typo must not be ignored).
 */
import { InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir, hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { InvalidOptionError } from '../../errors.js';
import { MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS } from '../../collector/options.js';
import { checkTag, checkToken, receiverUrl, serverUrl } from '../../push/options.js';
import { parseListen, type Listen } from '../serve/listen.js';
import type { Metric } from '../../types/sample.js';
import { byteSize } from '../parse-args.js';
import { metricList, seconds } from '../parse-args.js';

/** The flags as commander gives them (no defaults there: a flag not given leaves the file's value). */
export interface AgentFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  interval?: number;
  pushInterval?: number;
  tag?: string[];
  hostname?: string;
  queueDir?: string;
  queueMaxBytes?: number;
  queueMaxAge?: number;
  config?: string;
  ca?: string;
  insecure?: boolean;
  watch?: string[];
  metrics?: Metric[];
  tee?: string;
  remoteWrite?: string;
  remoteWriteTokenFile?: string;
  metricsListen?: Listen;
}

export interface AgentSettings {
  /** The hostseries serve to push to, and its token; absent when only remote-writing. */
  server?: string;
  token?: string;
  /** Where the token came from, for messages (never the token). */
  tokenSource?: string;
  /** A Prometheus remote-write receiver's URL, and its Bearer token if any. */
  remoteWrite?: { url: string; token?: string };
  /** Serve /metrics (node_exporter's names) here. */
  metricsListen?: Listen;
  interval: number;
  pushInterval: number;
  tags: Record<string, string>;
  hostname: string;
  queueDir: string;
  queueMaxBytes: number;
  queueMaxAge: number;
  ca?: { file: string; pem: Buffer };
  insecure: boolean;
  watch: string[];
  metrics?: Metric[];
  tee?: string;
  /** Things to say at start (a token on the command line). */
  warnings: string[];
}

export const DEFAULTS = { interval: 10, pushInterval: 10, queueMaxBytes: 64 * 1024 * 1024, queueMaxAge: 86_400 };

/** The queue's default home: /var/lib/hostseries/queue for root, else the XDG state directory. */
export function defaultQueueDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/lib/hostseries/queue';
  const state = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'hostseries', 'queue');
}

/** `--queue-max-bytes` (and the file's `queue-max-bytes`): at least 16k. */
export const queueBytes = byteSize(16 * 1024);

/** `k=v` (repeatable `--tag`). */
export function tagArg(value: string, previous: string[] | undefined): string[] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`Expected key=value, got ${JSON.stringify(value)}.`);
  try {
    checkTag(value.slice(0, eq), value.slice(eq + 1), `tag ${JSON.stringify(value)}`);
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}.`);
  }
  return [...(previous ?? []), value];
}

const KEYS = [
  'server', 'token', 'token-file', 'interval', 'push-interval', 'tags', 'hostname', 'queue-dir', 'queue-max-bytes', 'queue-max-age',
  'ca', 'insecure', 'watch', 'metrics', 'tee', 'remote-write', 'remote-write-token-file', 'metrics-listen',
] as const;
type Key = (typeof KEYS)[number];
type FileValues = Partial<Record<Key, unknown>>;

/** Read and check the YAML file: a mapping of known keys. */
export function readConfigFile(file: string): FileValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidOptionError(`--config ${file}: ${(e as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const bad = doc.errors[0];
  if (bad) throw new InvalidOptionError(`--config ${file}: not valid YAML: ${bad.message.split('\n')[0].replace(/:$/, '')}`);
  const v: unknown = doc.toJS();
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidOptionError(`--config ${file}: expected a mapping of settings (server: …, token-file: …), got ${Array.isArray(v) ? 'a list' : typeof v}`);
  const out: FileValues = {};
  for (const [raw, value] of Object.entries(v as Record<string, unknown>)) {
    const key = raw.replace(/_/g, '-').toLowerCase();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(`--config ${file}: unknown key ${JSON.stringify(raw)} (known: ${KEYS.join(', ')})`);
    }
    out[key as Key] = value;
  }
  return out;
}

/** A file value through a flag's parser, the error naming the file and key. */
function fromFile<T>(file: string, key: Key, value: unknown, parse: (s: string) => T): T {
  const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  if (typeof text !== 'string') throw new InvalidOptionError(`--config ${file}: ${key}: expected a string or a number, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  try {
    return parse(text);
  } catch (e) {
    throw new InvalidOptionError(`--config ${file}: ${key}: ${(e as Error).message.replace(/\.$/, '')}`);
  }
}

function listFromFile(file: string, key: Key, value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((x) => typeof x === 'string' || typeof x === 'number')) return value.map(String);
  throw new InvalidOptionError(`--config ${file}: ${key}: expected a list of strings`);
}

function tagsFromFile(file: string, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (k: string, v: unknown): void => {
    try {
      checkTag(k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v, `tags.${k}`);
    } catch (e) {
      throw new InvalidOptionError(`--config ${file}: ${(e as Error).message}`);
    }
    out[k] = String(v);
  };
  if (Array.isArray(value)) {
    for (const t of value) {
      const eq = typeof t === 'string' ? t.indexOf('=') : -1;
      if (eq <= 0) throw new InvalidOptionError(`--config ${file}: tags: expected key=value items or a mapping, got ${JSON.stringify(t)}`);
      add((t as string).slice(0, eq), (t as string).slice(eq + 1));
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) add(k, v);
  } else {
    throw new InvalidOptionError(`--config ${file}: tags: expected a mapping (rack: r12) or a list of key=value`);
  }
  return out;
}

function readToken(file: string, where: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidOptionError(`${where} ${file}: cannot read the token: ${(e as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new InvalidOptionError(`${where} ${file}: the file is empty (expected the token)`);
  return checkToken(token, `${where} ${file}`);
}

/** Flags + environment + config file → checked settings. */
export function agentSettings(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const file = flags.config;
  const f: FileValues = file !== undefined ? readConfigFile(file) : {};
  const base = file !== undefined ? dirname(resolve(file)) : process.cwd();
  const path = (key: Key): string | undefined => (f[key] === undefined ? undefined : resolve(base, fromFile(file!, key, f[key], (s) => {
    if (s === '') throw new Error('expected a file name');
    return s;
  })));
  const warnings: string[] = [];

  const remoteIn = flags.remoteWrite ?? (f['remote-write'] !== undefined ? fromFile(file!, 'remote-write', f['remote-write'], String) : undefined);
  let remoteWrite: AgentSettings['remoteWrite'];
  if (remoteIn !== undefined) {
    const { endpoint } = receiverUrl(remoteIn, flags.remoteWrite !== undefined ? '--remote-write' : `--config ${file}: remote-write`);
    const tf = flags.remoteWriteTokenFile ?? path('remote-write-token-file');
    const rwToken = tf !== undefined ? readToken(tf, flags.remoteWriteTokenFile !== undefined ? '--remote-write-token-file' : `--config ${file}: remote-write-token-file`)
      : env.HOSTSERIES_REMOTE_WRITE_TOKEN ? checkToken(env.HOSTSERIES_REMOTE_WRITE_TOKEN.trim(), 'HOSTSERIES_REMOTE_WRITE_TOKEN') : undefined;
    remoteWrite = { url: endpoint.toString(), ...(rwToken !== undefined ? { token: rwToken } : {}) };
  }
  const metricsListen = flags.metricsListen ?? (f['metrics-listen'] !== undefined ? fromFile(file!, 'metrics-listen', f['metrics-listen'], parseListen) : undefined);

  const serverIn = flags.server ?? (f.server !== undefined ? fromFile(file!, 'server', f.server, String) : undefined);
  if (serverIn === undefined && remoteWrite === undefined) {
    throw new InvalidOptionError('give the server: --server URL (or server: in the --config file), or a --remote-write URL');
  }
  const where = flags.server !== undefined ? '--server' : `--config ${file}: server`;
  const server = serverIn !== undefined ? serverUrl(serverIn, where).server : undefined;

  let token: string | undefined;
  let tokenSource: string | undefined;
  if (server === undefined) {
    // Only remote-writing: no serve token is needed.
  } else if (flags.token !== undefined) {
    token = checkToken(flags.token, '--token');
    tokenSource = '--token';
    warnings.push('--token shows in ps and in the shell history; prefer --token-file or HOSTSERIES_TOKEN');
  } else if (flags.tokenFile !== undefined) {
    token = readToken(flags.tokenFile, '--token-file');
    tokenSource = `--token-file ${flags.tokenFile}`;
  } else if (env.HOSTSERIES_TOKEN !== undefined && env.HOSTSERIES_TOKEN !== '') {
    token = checkToken(env.HOSTSERIES_TOKEN.trim(), 'HOSTSERIES_TOKEN');
    tokenSource = 'HOSTSERIES_TOKEN';
  } else if (f.token !== undefined) {
    token = checkToken(fromFile(file!, 'token', f.token, String), `--config ${file}: token`);
    tokenSource = `--config ${file}`;
  } else if (f['token-file'] !== undefined) {
    const tf = path('token-file')!;
    token = readToken(tf, `--config ${file}: token-file`);
    tokenSource = `token-file ${tf}`;
  } else {
    throw new InvalidOptionError('give the write token: --token-file FILE, HOSTSERIES_TOKEN, or token-file: in the --config file');
  }

  const interval = flags.interval ?? (f.interval !== undefined ? fromFile(file!, 'interval', f.interval, seconds(MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS)) : DEFAULTS.interval);
  const pushInterval = flags.pushInterval ?? (f['push-interval'] !== undefined ? fromFile(file!, 'push-interval', f['push-interval'], seconds(0.01, MAX_INTERVAL_SECONDS)) : DEFAULTS.pushInterval);
  const tags = f.tags !== undefined ? tagsFromFile(file!, f.tags) : {};
  for (const t of flags.tag ?? []) {
    const eq = t.indexOf('=');
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const hostname = flags.hostname ?? (f.hostname !== undefined ? fromFile(file!, 'hostname', f.hostname, (s) => {
    if (s.trim() === '' || /[\u0000-\u001f\u007f]/.test(s)) throw new Error('expected a non-empty name without control characters');
    return s;
  }) : osHostname());
  if (flags.hostname !== undefined && (flags.hostname.trim() === '' || /[\u0000-\u001f\u007f]/.test(flags.hostname))) {
    throw new InvalidOptionError(`--hostname: expected a non-empty name without control characters, got ${JSON.stringify(flags.hostname)}`);
  }
  const queueDir = resolve(flags.queueDir ?? path('queue-dir') ?? defaultQueueDir(env));
  const queueMaxBytes = flags.queueMaxBytes ?? (f['queue-max-bytes'] !== undefined ? fromFile(file!, 'queue-max-bytes', f['queue-max-bytes'], queueBytes) : DEFAULTS.queueMaxBytes);
  const queueMaxAge = flags.queueMaxAge ?? (f['queue-max-age'] !== undefined ? fromFile(file!, 'queue-max-age', f['queue-max-age'], seconds(1)) : DEFAULTS.queueMaxAge);
  const caFile = flags.ca ?? path('ca');
  let ca: AgentSettings['ca'];
  if (caFile !== undefined) {
    try {
      ca = { file: caFile, pem: readFileSync(caFile) };
    } catch (e) {
      throw new InvalidOptionError(`${flags.ca !== undefined ? '--ca' : `--config ${file}: ca`} ${caFile}: ${(e as Error).message}`);
    }
    if (!ca.pem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new InvalidOptionError(`--ca ${caFile}: not a PEM certificate (no BEGIN CERTIFICATE line)`);
  }
  let insecure = flags.insecure ?? false;
  if (flags.insecure === undefined && f.insecure !== undefined) {
    if (typeof f.insecure !== 'boolean') throw new InvalidOptionError(`--config ${file}: insecure: expected true or false`);
    insecure = f.insecure;
  }
  if (insecure) warnings.push("--insecure: the server's certificate is not checked (anyone in the path can read the token); prefer --ca FILE");
  for (const url of [server, remoteWrite?.url]) {
    if (url === undefined) continue;
    if ((ca || insecure) && url.startsWith('http:')) warnings.push(`--ca/--insecure only apply to https, and ${url} is http`);
    if (url.startsWith('http:') && !/^http:\/\/(127\.|localhost[:/]|\[::1\])/.test(url + '/')) {
      warnings.push(`${url} is plain http: the token and the samples cross the network unencrypted`);
    }
  }
  const watch = flags.watch ?? (f.watch !== undefined ? listFromFile(file!, 'watch', f.watch) : []);
  let metrics = flags.metrics;
  if (metrics === undefined && f.metrics !== undefined) metrics = fromFile(file!, 'metrics', listFromFile(file!, 'metrics', f.metrics).join(','), (s) => metricList(s, undefined));
  const tee = flags.tee ?? path('tee');
  return {
    server, token, tokenSource, remoteWrite, metricsListen, interval, pushInterval, tags, hostname, queueDir, queueMaxBytes, queueMaxAge,
    ca, insecure, watch, metrics, tee, warnings,
  };
}
