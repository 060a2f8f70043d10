/** Where a progress bar draws: a terminal (isTTY) or anything else, where it stays quiet. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/**
 * A one-line progress bar for the CLI, redrawn in place (\r) at most every 100 ms:
 *   Importing  [██████████░░░░░░░░░░]  52%  52,000/100,000 rows  12,400 rows/s
 * On anything but a terminal (a pipe, a file, CI) it writes nothing at all, so logs and
 * scripts get only the command's own output.
 */
export class ProgressBar {
  private readonly tty: boolean;
  private last = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly unit: string,
    private readonly format: (n: number) => string = (n) => n.toLocaleString('en-US'),
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number, total: number | null, force = false): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = 20;
    const share = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(share * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = Math.round(done / seconds);
    const amount = total ? `${this.format(done)}/${this.format(total)}` : this.format(done);
    const pct = total ? `${String(Math.floor(share * 100)).padStart(3)}%` : '    ';
    const unit = this.unit ? ` ${this.unit}` : '';
    const line = `${this.label.padEnd(10)} [${bar}] ${pct}  ${amount}${unit}  ${this.format(rate)}${unit}/s`;
    const max = (this.stream.columns ?? 100) - 1;
    this.stream.write(`\r${line.slice(0, max)}\x1b[K`);
    this.drawn = true;
  }

  /** Draws the final state and ends the line. */
  finish(done: number, total: number | null): void {
    if (!this.tty) return;
    this.update(done, total, true);
    if (this.drawn) this.stream.write('\n');
  }
}
