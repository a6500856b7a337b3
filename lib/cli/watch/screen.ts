/**
 * Where `watch` draws: on a terminal, the block is redrawn in place (the cursor goes back up over
 * the previous block, which is then cleared: ANSI CSI F and J), so the screen holds the latest
 * interval as `top` does; piped, each block is appended (plain text, no escapes), as iostat
 * prints interval after interval. A reader that goes away ends the watch quietly.
 */

export class Screen {
  private drawn = 0;
  private gone = false;

  constructor(private readonly out: NodeJS.WriteStream, readonly inPlace: boolean, private readonly onGone: () => void) {
    out.on('error', () => this.goneAway());
  }

  private goneAway(): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone();
  }

  draw(lines: readonly string[]): void {
    if (this.gone) return;
    let text: string;
    if (this.inPlace) {
      // Back to the start of the previous block, clear to the end of the screen, draw.
      const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
      text = up + '\x1b[J' + lines.join('\n') + '\n';
      this.drawn = lines.length;
    } else {
      text = lines.join('\n') + '\n\n';
    }
    try {
      this.out.write(text);
    } catch {
      this.goneAway();
    }
  }

  /** Resolves once everything written has been handed to the OS. */
  end(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => this.out.write('', () => resolve()));
  }
}
