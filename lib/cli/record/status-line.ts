/**
 * The live status line of `record`, on a terminal only. Without a command the terminal is ours
 * and the line is redrawn in place. With a command, whose output shares the terminal, the line
 * lives on the bottom row and the command's output scrolls above it (a scroll region, as apt
 * does), so neither overwrites the other.
 */
import type { WriteStream } from 'node:tty';
import type { Reporter } from '../output.js';

const ESC = '\x1b';
const CLEAR_LINE = `${ESC}[2K`;
const SAVE = `${ESC}7`;
const RESTORE = `${ESC}8`;

export class StatusLine {
  private text = '';
  private closed = false;
  private rows: number;
  private readonly previousWrite: (line: string) => void;
  private readonly onResize = (): void => this.resize();

  constructor(
    private readonly out: WriteStream,
    private readonly mode: 'inline' | 'bottom',
    private readonly reporter: Reporter,
  ) {
    this.rows = out.rows || 24;
    this.previousWrite = reporter.writeLine;
    reporter.writeLine = (line) => this.print(line);
    if (mode === 'bottom') {
      this.setRegion();
      out.on('resize', this.onResize);
    }
  }

  update(text: string): void {
    if (this.closed) return;
    this.text = text.slice(0, Math.max(10, (this.out.columns || 80) - 1));
    this.draw();
  }

  /** A message above the status line. */
  private print(line: string): void {
    if (this.closed) return this.previousWrite(line);
    if (this.mode === 'inline') this.out.write(`\r${CLEAR_LINE}${line}\n${this.text}`);
    else this.out.write(line + '\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reporter.writeLine = this.previousWrite;
    if (this.mode === 'inline') {
      this.out.write(`\r${CLEAR_LINE}`);
      return;
    }
    this.out.off('resize', this.onResize);
    // Clear the bottom row, then give the whole screen back to scrolling.
    this.out.write(`${SAVE}${ESC}[${this.rows};1H${CLEAR_LINE}${ESC}[r${RESTORE}`);
  }

  private draw(): void {
    if (this.mode === 'inline') this.out.write(`\r${CLEAR_LINE}${this.text}`);
    else this.out.write(`${SAVE}${ESC}[${this.rows};1H${CLEAR_LINE}${this.text}${RESTORE}`);
  }

  /** Make room for the bottom row (a newline scrolls if the cursor is on it), then fence it off. */
  private setRegion(): void {
    this.out.write(`\n${SAVE}${ESC}[1;${this.rows - 1}r${RESTORE}${ESC}[1A`);
  }

  private resize(): void {
    this.out.write(`${SAVE}${ESC}[${this.rows};1H${CLEAR_LINE}${RESTORE}`);
    this.rows = this.out.rows || 24;
    this.setRegion();
    this.draw();
  }
}

/**
 * Show a status line on stderr when it is a terminal (and not --quiet), first once the first
 * sample is in, then every second; returns the function that removes it.
 */
export function showStatusLine(reporter: Reporter, mode: 'inline' | 'bottom', text: () => string): () => void {
  const err = process.stderr as WriteStream;
  if (!err.isTTY || reporter.verbosity === 'quiet') return () => undefined;
  // The bottom row needs the terminal's size.
  if (mode === 'bottom' && !(err.rows >= 3)) return () => undefined;
  const line = new StatusLine(err, mode, reporter);
  const update = (): void => line.update(text());
  const first = setTimeout(update, 250);
  const every = setInterval(update, 1000);
  return () => {
    clearTimeout(first);
    clearInterval(every);
    line.close();
  };
}
