/**
 * Messages to stderr (stdout carries data, or the wrapped command's output): info unless
 * --quiet, debug only with --verbose, warnings and errors always. A live status line can take
 * over the writing so that messages appear above it instead of through it.
 *
 * Messages are a courtesy, the recording is the job: a stderr that is closed, full or a pipe
 * whose reader left (2>&-, 2>/dev/full, 2>&1 | true) never stops a recording nor changes the
 * exit status; such write errors are dropped.
 */
import type { Logger } from '../types/collector.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

const PREFIX = 'hostseries: ';

/** Library messages already carry the prefix; do not print it twice. */
function bare(m: string): string {
  return m.startsWith(PREFIX) ? m.slice(PREFIX.length) : m;
}

export function verbosityOf(opts: { quiet?: boolean; verbose?: boolean }): Verbosity {
  if (opts.verbose) return 'verbose';
  if (opts.quiet) return 'quiet';
  return 'normal';
}

/** Errors a lost or full terminal/file/pipe gives; nothing to be done about them but go on. */
const GONE = new Set(['EPIPE', 'ENOSPC', 'EBADF', 'EIO', 'EFBIG', 'ECONNRESET', 'EDQUOT']);

let stderrGuarded = false;

/** From now on, a failing stderr is ignored (an 'error' event nobody hears would crash the process). */
export function guardStderr(): void {
  if (stderrGuarded) return;
  stderrGuarded = true;
  process.stderr.on('error', () => undefined);
}

/** Write to stderr; a failure to (see GONE) is dropped. */
export function writeStderr(text: string): void {
  guardStderr();
  try {
    process.stderr.write(text, () => undefined);
  } catch (e) {
    if (!GONE.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
}

/**
 * Text for stdout that is not a recording (help, version). A reader that went away (`| head -1`)
 * is normal; any other failure (a full device) is said on stderr and fails the exit status.
 */
export function writeInfoToStdout(text: string): void {
  const failed = (e: NodeJS.ErrnoException | null | undefined): void => {
    if (!e || e.code === 'EPIPE' || process.exitCode === 1) return;
    writeStderr(`hostseries: cannot write to stdout: ${e.message}\n`);
    process.exitCode = 1;
  };
  // The write's callback is told of a failure; the stream's 'error' event must be heard too.
  process.stdout.on('error', () => undefined);
  try {
    process.stdout.write(text, failed);
  } catch (e) {
    failed(e as NodeJS.ErrnoException);
  }
}

/**
 * Write `chunks` to stdout in order, waiting for it to drain (a long recording is large), and
 * resolve once all of it is handed to the OS; rejects when stdout fails.
 */
export async function writeStdout(chunks: Iterable<string>, finalNewline = false): Promise<void> {
  const out = process.stdout;
  let failed: Error | undefined;
  const onError = (e: Error): void => {
    failed ??= e;
  };
  out.on('error', onError);
  try {
    const write = (text: string): Promise<void> => new Promise((resolve, reject) => {
      out.write(text, (e) => (e ? reject(e) : resolve()));
    });
    let pending = '';
    for (const c of chunks) {
      pending += c;
      if (pending.length >= 1 << 20) {
        await write(pending);
        pending = '';
      }
      if (failed) throw failed;
    }
    await write(finalNewline ? pending + '\n' : pending);
    if (failed) throw failed;
  } catch (e) {
    throw new Error(`cannot write to stdout: ${(e as Error).message}`, { cause: e });
  } finally {
    out.off('error', onError);
  }
}

export class Reporter implements Logger {
  /** Where lines go; a status line replaces it while it is shown. */
  writeLine: (line: string) => void = (l) => writeStderr(l + '\n');

  constructor(readonly verbosity: Verbosity) {}

  info(m: string): void {
    if (this.verbosity !== 'quiet') this.writeLine(PREFIX + bare(m));
  }

  warn(m: string): void {
    this.writeLine(PREFIX + 'warning: ' + bare(m));
  }

  debug(m: string): void {
    if (this.verbosity === 'verbose') this.writeLine(PREFIX + bare(m));
  }

  error(m: string): void {
    this.writeLine(PREFIX + bare(m));
  }
}
