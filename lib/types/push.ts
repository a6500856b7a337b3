/** Options and events of PushSink (lib/push/): a sink that pushes samples to `hostseries serve`. */
import type { Logger } from './collector.js';

/** A logger that may also take the quiet news (connected, backlog delivered); warnings go to `warn`. */
export interface PushLogger extends Logger {
  info?(message: string): void;
}

export interface PushSinkOptions {
  /**
   * The server's base URL, `http://host:9000` or `https://…` (the push goes to `/api/v1/samples`);
   * with `protocol: 'remote-write'` the receiver's write URL as it is, e.g.
   * `http://prometheus:9090/api/v1/write`.
   */
  server: string;
  /**
   * The write token (at least 16 characters on the server's side; no white space). With
   * `protocol: 'remote-write'` optional: sent as a Bearer token when given.
   */
  token?: string;
  /**
   * What the pushes speak: `hostseries` (default: JSON Lines to `hostseries serve`) or
   * `remote-write` (Prometheus remote-write 1.0, node_exporter's names, whole samples: see
   * docs/prometheus.md; `tags` become labels). The queue, retries and drops are the same.
   */
  protocol?: 'hostseries' | 'remote-write';
  /**
   * A directory for the disk queue: every sample is appended there before anything else, and
   * deleted only once the server has acknowledged it, so an outage or a restart loses nothing.
   * One PushSink at a time per directory (a lock file with its pid). Without it the queue is in
   * memory only (same bounds).
   */
  queueDir?: string;
  /** Seconds between pushes (default 10). A backlog is pushed batch after batch without waiting. */
  pushIntervalSeconds?: number;
  /** Sent as `X-Hostseries-Tags` (keys and values without `,`; keys without `=`). */
  tags?: Readonly<Record<string, string>>;
  /**
   * With `protocol: 'remote-write'`: the tags of each sample's host, sent as labels beside `tags`
   * (what `serve --remote-write` uses: every host it forwards keeps the tags its agent gave).
   */
  hostTags?: (host: string) => Readonly<Record<string, string>> | undefined;
  /**
   * The body of a push to `hostseries serve`: `blob` (default: the compact body, the core's sample
   * blob with its layouts, `application/vnd.hostseries.blob`; docs/agent.md) or `jsonl` (JSON
   * Lines). A server that does not take `blob` (an older one) gets JSON Lines from then on.
   */
  format?: 'blob' | 'jsonl';
  /** gzip the push bodies (default true). */
  gzip?: boolean;
  /** Bound on the queue's bytes (default 64 MiB); past it the oldest samples are dropped, and said so. */
  maxQueueBytes?: number;
  /** Bound on the age of queued samples (default 86400 s, a day); older ones are dropped, and said so. */
  maxQueueAgeSeconds?: number;
  /** Largest push body before compression (default 4 MiB); the server takes 64 MiB inflated by default. */
  maxBatchBytes?: number;
  /** Retries: exponential backoff with full jitter, from this (default 1 s)… */
  retryInitialSeconds?: number;
  /** …up to this (default 60 s); a refused token is retried at this pace. */
  retryMaxSeconds?: number;
  /** A push without an answer within this is a failure, retried (default 30 s). */
  requestTimeoutSeconds?: number;
  /** `close()` tries to deliver what is queued for at most this long (default 5 s); the rest stays queued. */
  closeTimeoutSeconds?: number;
  /** PEM certificate(s) to trust for an https server (e.g. its self-signed certificate). */
  ca?: string | Buffer;
  /** Do not check the https server's certificate at all (tests; prefer `ca`). */
  insecure?: boolean;
  /** `X-Hostseries-Agent` (default `hostseries/VERSION`). */
  agent?: string;
  /** Where drops, refusals and state changes are said (default: warnings as process warnings). */
  logger?: PushLogger;
}

/**
 * Where the pushing stands: `starting` (nothing pushed yet), `connected` (the last push was
 * acknowledged), `unreachable` (network error, timeout, 5xx, 408, 429: retried with backoff),
 * `refused` (401/403, another 4xx that a retry does not mend, or an https certificate not trusted:
 * said loudly, retried slowly, at the longest backoff).
 */
export type PushState = 'starting' | 'connected' | 'unreachable' | 'refused';

export interface PushStateChange {
  state: PushState;
  previous: PushState;
  /** Why (the error, or the server's status and message), for unreachable and refused. */
  reason?: string;
  /** The HTTP status, when there was a reply. */
  status?: number;
  /** Samples queued at the change. */
  queued: number;
}

/** Samples the sink gave up on. */
export interface PushDrop {
  /** `bytes`/`age`: a queue bound; `rejected`: the server refused them (reasons in `reasons`); `unreadable`: not JSON (a damaged queue file). */
  reason: 'bytes' | 'age' | 'rejected' | 'unreadable';
  count: number;
  /** Wall times of the first and last sample dropped (ns since the epoch), when known. */
  fromNs?: number;
  toNs?: number;
  reasons?: string[];
}

/** One acknowledged push. */
export interface PushReply {
  samples: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Body bytes before and after gzip. */
  bytes: number;
  wireBytes: number;
}

/** What the queue holds. */
export interface PushQueueStatus {
  samples: number;
  bytes: number;
  /** Wall times of its oldest and newest sample (ns), when it holds any. */
  oldestNs?: number;
  newestNs?: number;
}
