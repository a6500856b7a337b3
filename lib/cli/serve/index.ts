/** `hostseries serve`: the aggregator agents push to; stores every host's samples and answers the read API. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { Tokens } from '../../serve/auth.js';
import { DEFAULT_LIMITS, startServer } from '../../serve/server.js';
import { PrometheusStore } from '../../serve/store/prometheus.js';
import { DEFAULT_CACHE_BYTES } from '../../serve/store/chunk-cache.js';
import { SqliteStore } from '../../serve/store/sqlite.js';
import type { SampleStore } from '../../serve/store/store.js';
import { UsageError } from '../exit.js';
import { writeStderr } from '../output.js';
import { join } from 'node:path';
import { PushSink } from '../../push/push-sink.js';
import { TimeSeriesSample } from '../../models/sample.js';
import { isoSeconds } from '../../native/decode.js';
import type { Forward } from '../../serve/ingest.js';
import { byteSize, seconds } from '../parse-args.js';
import { packageVersion } from '../version.js';
import { DEFAULT_LISTEN, isLoopback, parseListen, type Listen } from './listen.js';

export interface ServeOptions {
  listen: Listen;
  data: string;
  token?: string;
  tokens?: string;
  readToken?: string;
  /** false with --no-auth. */
  auth: boolean;
  offlineAfter?: number;
  maxBody: number;
  maxInflated: number;
  requestTimeout: number;
  sync: 'normal' | 'full';
  /** Bytes of chunks kept in memory (undefined: the store's default). */
  cache?: number;
  tlsCert?: string;
  tlsKey?: string;
  /** ms */
  retention?: number;
  /** Forward what agents push to this remote-write receiver. */
  remoteWrite?: string;
  remoteWriteTokenFile?: string;
  /** Keep and read samples in this Prometheus-compatible TSDB instead of SQLite in `data`. */
  prometheus?: string;
  prometheusTokenFile?: string;
}

/** Options that have no meaning with --prometheus (the TSDB stores the samples and keeps its own retention). */
const NOT_WITH_PROMETHEUS = ['data', 'retention', 'sync', 'cache', 'remoteWrite'] as const;

/** `--retention`: a number with a unit s, m, h or d (`30d`), in ms. */
export function retention(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$/.exec(value);
  const ms = m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(ms >= 1000)) throw new InvalidArgumentError('Expected a duration with a unit (s, m, h, d) of at least 1s, such as 30d or 12h.');
  return ms;
}

/** A PEM file for --tls-cert / --tls-key, read now: an unreadable one is named. */
function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as Error).message}`);
  }
}

const EXAMPLES = `
Examples:
  $ HOSTSERIES_TOKEN=$(cat /etc/hostseries/token) hostseries serve --listen 0.0.0.0:9000 --data /var/lib/hostseries
  $ hostseries serve --tokens /etc/hostseries/tokens --read-token-file /etc/hostseries/read-token
  $ hostseries serve --no-auth                         # loopback only

Tokens: give them in the environment (HOSTSERIES_TOKEN, HOSTSERIES_READ_TOKEN) or in a file
(--tokens, --read-token-file) rather than as --token/--read-token, which any user sees in 'ps'.
A tokens file has one token a line, then optionally the hostnames it may write (comma-separated;
none or '*': any), '#' starting a comment:
    3f9c1e6a0b7d4c2e8f51a6b9d0c3e7f2   node01,node02
A push for a host its token may not write is refused (403). Tokens have at least 16 characters.
Without any token the server does not start, except with --no-auth on a loopback address.

Routes: POST /api/v1/samples (samples as a JSON array or JSON Lines, optionally gzipped;
Authorization: Bearer TOKEN; idempotent: a sample whose host and time are stored is a duplicate),
GET /api/v1/hosts, /api/v1/hosts/HOST, /api/v1/series?host=&path=&from=&to=&step=,
/api/v1/aggregate?host=&path=&from=&to=, /api/v1/fleet?path=&from=&to=, /api/v1/export?from=&to=&hosts=
(a TimeSeriesData file); times ISO 8601, ns, now or -15m; paths as aggregate() takes them
(meminfo.MemAvailable, rates.disk.sda.util, rates.cpu.all.busy). /api/v1/openapi.json describes them.
Samples are kept in DIR/hostseries.db (SQLite, WAL). --retention deletes whole chunks whose last
sample is older; a host whose samples all went stays listed (samples 0) with its tags and last seen.
With --prometheus URL the samples go to that TSDB by remote write (URL/api/v1/write; a push is
acknowledged once the TSDB took it, else answered 503 and kept by the agent) and every read route
answers from its query API (URL/api/v1/query): no --data, --retention (the TSDB's own), --sync or
--remote-write. Its Bearer token: --prometheus-token-file or HOSTSERIES_PROMETHEUS_TOKEN.
SIGTERM or Ctrl-C: stop accepting, finish requests in flight, close the database, exit 0.`;

/** A token alone in a file (trailing newline and white space dropped). */
function readTokenFile(file: string, flag = '--read-token-file'): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as Error).message}`);
  }
}

/** Resolves with the exit status once the server has stopped (SIGTERM, SIGINT). */
export async function runServe(opts: ServeOptions & { readTokenFile?: string }): Promise<number> {
  let tokens: Tokens | undefined;
  if (opts.token !== undefined || opts.tokens !== undefined) {
    tokens = new Tokens();
    if (opts.token !== undefined) tokens.add(opts.token, '--token');
    if (opts.tokens !== undefined) Tokens.readFile(opts.tokens, tokens);
  }
  if (!tokens) {
    if (opts.auth) throw new UsageError('give a write token: HOSTSERIES_TOKEN, --tokens FILE or --token (or --no-auth on a loopback address)');
    if (!isLoopback(opts.listen.host)) throw new UsageError(`--no-auth is only allowed on a loopback address, not ${opts.listen.host}`);
  } else if (!opts.auth) {
    throw new UsageError('--no-auth and a token do not go together');
  }
  const readToken = opts.readTokenFile !== undefined ? readTokenFile(opts.readTokenFile) : opts.readToken;
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both or neither');
  const tls = opts.tlsCert !== undefined && opts.tlsKey !== undefined ? { cert: readPem('--tls-cert', opts.tlsCert), key: readPem('--tls-key', opts.tlsKey) } : undefined;
  if (tls) {
    // Loaded now: a file that is not PEM, or a key not of the certificate, is named before anything starts.
    try {
      createSecureContext(tls);
    } catch (e) {
      throw new UsageError(`--tls-cert ${opts.tlsCert} / --tls-key ${opts.tlsKey}: ${(e as Error).message}`);
    }
  }
  const data = resolve(opts.data);
  const log = (m: string): void => writeStderr(`hostseries serve: ${m}\n`);
  let store: SampleStore;
  let where: string;
  let forwarder: Awaited<ReturnType<typeof startForwarder>> | undefined;
  if (opts.prometheus !== undefined) {
    const prom = prometheusStore(opts.prometheus, opts.prometheusTokenFile);
    const down = await prom.check();
    // Not fatal: the TSDB may be starting too; pushes are answered 503 until it answers.
    if (down !== undefined) log(`--prometheus: the TSDB does not answer yet: ${down}`);
    store = prom;
    where = `samples in the TSDB at ${prom.url}`;
  } else {
    const sqlite = new SqliteStore(data, { sync: opts.sync, cacheBytes: opts.cache });
    store = sqlite;
    where = `data in ${sqlite.file}`;
    try {
      forwarder = opts.remoteWrite !== undefined ? await startForwarder(opts.remoteWrite, opts.remoteWriteTokenFile, join(data, 'remote-write'), sqlite, log) : undefined;
    } catch (e) {
      sqlite.close();
      throw e;
    }
  }
  let server;
  try {
    server = await startServer({
      forward: forwarder?.forward,
      store, host: opts.listen.host, port: opts.listen.port, tokens, readToken,
      limits: { maxBody: opts.maxBody, maxInflated: opts.maxInflated },
      offlineAfterMs: opts.offlineAfter === undefined ? undefined : opts.offlineAfter * 1000,
      requestTimeoutMs: opts.requestTimeout * 1000, log, tls, retentionMs: opts.retention, version: packageVersion(),
    });
  } catch (e) {
    await store.close();
    await forwarder?.close();
    throw e;
  }
  const running = server;
  const kept = opts.retention === undefined ? '' : `; samples kept ${opts.retention / 1000} s`;
  log(`listening on ${running.url} (${where}${tokens ? '' : '; no auth'}${kept}${forwarder ? `; forwarding to ${opts.remoteWrite}` : ''})`);
  await new Promise<void>((done) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      log(`${signal}: finishing requests in flight, closing the database`);
      running.close().then(done, (e: unknown) => {
        log(`closing: ${(e as Error).message}`);
        done();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await forwarder?.close();
  log('stopped');
  return 0;
}

/** `--prometheus URL`: the store over that TSDB, its token from a file or HOSTSERIES_PROMETHEUS_TOKEN. */
function prometheusStore(url: string, tokenFile: string | undefined): PrometheusStore {
  const token = tokenFile !== undefined ? readTokenFile(tokenFile, '--prometheus-token-file') : process.env.HOSTSERIES_PROMETHEUS_TOKEN || undefined;
  try {
    return new PrometheusStore({ url, authorization: token ? `Bearer ${token}` : undefined });
  } catch (e) {
    throw new UsageError(`--prometheus ${url}: ${(e as Error).message}`);
  }
}

/**
 * `--remote-write`: what agents push, once stored, goes on to a Prometheus-compatible TSDB through
 * a PushSink speaking remote write, queued on disk (`DATA/remote-write`) through its outages as an
 * agent's pushes are. Each sample keeps its own hostname as `instance`, and its host's tags (as
 * stored: what its agent said last) as labels.
 */
async function startForwarder(url: string, tokenFile: string | undefined, queueDir: string, store: SqliteStore, log: (m: string) => void): Promise<{ forward: Forward; close: () => Promise<void> }> {
  const token = tokenFile !== undefined ? readTokenFile(tokenFile, '--remote-write-token-file') : process.env.HOSTSERIES_REMOTE_WRITE_TOKEN || undefined;
  const say = (m: string): void => log(`remote write: ${m}`);
  // A host's tags: what its pushes say; read from the store once for a host whose pushes have
  // not said (it keeps those it had), or whose samples are still queued from before a restart.
  const tags = new Map<string, Readonly<Record<string, string>>>();
  const tagsOf = (h: string): Readonly<Record<string, string>> => {
    const t = store.host(h)?.tags ?? {};
    tags.set(h, t);
    return t;
  };
  let sink: PushSink;
  try {
    sink = new PushSink({ protocol: 'remote-write', server: url, token, queueDir, pushIntervalSeconds: 1, logger: { warn: say, info: say }, hostTags: (h) => tags.get(h) ?? tagsOf(h) });
  } catch (e) {
    throw new UsageError(`--remote-write: ${(e as Error).message}`);
  }
  sink.on('error', (e) => say(e.message));
  await sink.open({ collectionIntervalSeconds: 0, startTime: isoSeconds(Date.now()), collectionMethod: 'unknown', hostsRequested: [] });
  return {
    forward: (push) => {
      if (push.tags) tags.set(push.host, push.tags);
      else if (!tags.has(push.host)) tagsOf(push.host);
      for (const d of push.dicts()) sink.write(TimeSeriesSample.fromTrustedDict(d), d.hostname);
    },
    close: () => sink.close({ endTime: isoSeconds(Date.now()) }),
  };
}

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('collect samples that agents push over HTTP, store them (SQLite, or a Prometheus-compatible TSDB with --prometheus) and answer the read API')
    .addOption(new Option('--listen <host:port>', 'address to listen on (port 0: any free port, printed at start)').argParser(parseListen).default(parseListen(DEFAULT_LISTEN), DEFAULT_LISTEN))
    .addOption(new Option('--data <dir>', 'where the database lives').default('hostseries-data'))
    .addOption(new Option('--token <token>', 'the write token (prefer HOSTSERIES_TOKEN or --tokens: a flag shows in ps)').env('HOSTSERIES_TOKEN'))
    .addOption(new Option('--tokens <file>', 'write tokens, one a line, each optionally bound to hostnames (see below)'))
    .addOption(new Option('--read-token <token>', 'a token the read routes require (prefer HOSTSERIES_READ_TOKEN or --read-token-file)').env('HOSTSERIES_READ_TOKEN'))
    .addOption(new Option('--read-token-file <file>', 'the read token, from a file'))
    .addOption(new Option('--no-auth', 'take pushes without a token (only on a loopback address)'))
    .addOption(new Option('--offline-after <seconds>', 'a host is offline when not heard from for this long (default: 3 of its push intervals)').argParser(seconds(1)))
    .addOption(new Option('--max-body <size>', 'largest push body as sent').argParser(byteSize(1024)).default(DEFAULT_LIMITS.maxBody, '16M'))
    .addOption(new Option('--max-inflated <size>', 'largest push body once gunzipped').argParser(byteSize(1024)).default(DEFAULT_LIMITS.maxInflated, '64M'))
    .addOption(new Option('--request-timeout <seconds>', 'a request must arrive whole within this (slow clients are cut off)').argParser(seconds(1)).default(60))
    .addOption(new Option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)'))
    .addOption(new Option('--tls-key <file>', 'the private key of --tls-cert (PEM)'))
    .addOption(new Option('--retention <duration>', 'delete samples older than this (30d, 12h; units s m h d), whole chunks of 128, at start and periodically').argParser(retention))
    .addOption(new Option('--remote-write <url>', "forward what agents push to a Prometheus remote-write receiver (node_exporter's names; queued on disk in DATA/remote-write)"))
    .addOption(new Option('--remote-write-token-file <file>', "the receiver's Bearer token (else HOSTSERIES_REMOTE_WRITE_TOKEN; none: no Authorization)"))
    .addOption(new Option('--prometheus <url>', 'keep samples in this Prometheus-compatible TSDB (remote write in, query API out) instead of SQLite; the read API answers from it'))
    .addOption(new Option('--prometheus-token-file <file>', "the TSDB's Bearer token (else HOSTSERIES_PROMETHEUS_TOKEN; none: no Authorization)"))
    .addOption(new Option('--sync <mode>', 'normal: a killed server loses nothing it acknowledged; full: a power loss neither (fsync per push)').choices(['normal', 'full']).default('normal'))
    .addOption(new Option('--cache <size>', 'memory for chunks recently read (inflated: ~0.5 MiB a host-hour at 1 s), and a quarter more for values picked from them; as much again at most for each host\'s open chunk; 0: none').argParser(byteSize(1024, { zero: true })).default(DEFAULT_CACHE_BYTES, '64M'))
    .addHelpText('after', EXAMPLES);
  return cmd.action(async (opts: ServeOptions & { readTokenFile?: string }) => {
    if (opts.prometheus !== undefined) {
      const given = NOT_WITH_PROMETHEUS.filter((k) => { const src = cmd.getOptionValueSource(k); return src !== undefined && src !== 'default'; });
      const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (given.length > 0) throw new UsageError(`--prometheus keeps the samples in the TSDB: ${given.map(flag).join(', ')} ${given.length === 1 ? 'does' : 'do'} not go with it (its retention is the TSDB's own)`);
    } else if (opts.prometheusTokenFile !== undefined) {
      throw new UsageError('--prometheus-token-file goes with --prometheus');
    }
    process.exitCode = await runServe(opts);
  });
}
