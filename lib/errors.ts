/** Every error hostseries throws is a HostseriesError with a stable `code`. */
import type { LifecycleCode, SshPhase } from './types/errors.js';
export class HostseriesError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option or argument (names the option and the value at fault). */
export class InvalidOptionError extends HostseriesError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_OPTION', message, options);
  }
}

export class LifecycleError extends HostseriesError {
  constructor(code: LifecycleCode, message: string) {
    super(code, message);
  }
}

/** Data that does not have the expected shape; the message names the path of the bad field. */
export class InvalidDataError extends HostseriesError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_DATA', path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/** A file that could not be read or written; `path` names it, `cause` holds the system error. */
export class FileError extends HostseriesError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_FILE', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A host list entry that cannot be parsed. */
export class InvalidHostError extends HostseriesError {
  readonly input: string;
  constructor(input: string, message: string) {
    super('ERR_INVALID_HOST', `invalid host spec ${JSON.stringify(input)}: ${message}`);
    this.input = input;
  }
}

export class SshError extends HostseriesError {
  readonly host: string;
  readonly phase: SshPhase;
  constructor(host: string, phase: SshPhase, message: string, options?: { cause?: unknown }) {
    super('ERR_SSH', `${host}: ${phase}: ${message}`, options);
    this.host = host;
    this.phase = phase;
  }
}

/**
 * An error of the native addon: `ERR_PROC_READ` (the proc filesystem cannot be read; the
 * message names the path), `ERR_THREAD` (the sampling thread could not start), `ERR_NATIVE_LOAD`
 * (the addon cannot be loaded) or `ERR_NATIVE` (N-API itself failed; `cause` is its error).
 */
export class NativeError extends HostseriesError {}

/** hostseries reads Linux /proc and runs nowhere else. */
export class UnsupportedPlatformError extends HostseriesError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_PLATFORM', message);
  }
}

/** A remote-write receiver refused a batch (`status` its HTTP status, 0 when it could not be reached). */
export class RemoteWriteError extends HostseriesError {
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number, message: string, options?: { cause?: unknown }) {
    super('ERR_REMOTE_WRITE', `${url}: ${message}`, options);
    this.url = url;
    this.status = status;
  }
}

/** A Prometheus-compatible query API answered with an error, or could not be reached (`status` 0). */
export class PromQueryError extends HostseriesError {
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number, message: string, options?: { cause?: unknown }) {
    super('ERR_PROM_QUERY', `${url}: ${message}`, options);
    this.url = url;
    this.status = status;
  }
}

/** A push to `hostseries serve` that failed: `status` is the HTTP status when there was a reply. */
export class PushError extends HostseriesError {
  readonly server: string;
  readonly status: number | undefined;
  constructor(server: string, message: string, status?: number, options?: { cause?: unknown }) {
    super('ERR_PUSH', `${server}: ${message}`, options);
    this.server = server;
    this.status = status;
  }
}

/** A push queue directory that another live process holds (its lock file names the pid). */
export class QueueLockedError extends HostseriesError {
  readonly path: string;
  readonly pid: number;
  constructor(path: string, pid: number) {
    super('ERR_QUEUE_LOCKED', `${path}: the queue directory is in use by process ${pid} (another hostseries agent?); give each agent its own queue directory`);
    this.path = path;
    this.pid = pid;
  }
}
