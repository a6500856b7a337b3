/**
 * Messages to stderr (stdout carries data, or the wrapped command's output): info unless
 * --quiet, debug only with --verbose, warnings and errors always. A live status line can take
 * over the writing so that messages appear above it instead of through it.
 */
import type { Logger } from '../collector/time-series-collector.js';

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

export class Reporter implements Logger {
  /** Where lines go; a status line replaces it while it is shown. */
  writeLine: (line: string) => void = (l) => void process.stderr.write(l + '\n');

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
