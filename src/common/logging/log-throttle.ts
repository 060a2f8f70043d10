/** The default: one line at most every 10 s. */
export const LOG_EVERY_MS = 10_000;

/**
 * For a log line that anyone outside can make the server write (a bad packet, a client's
 * protocol error, a failing send): at most one line every `everyMs`, saying how many more
 * happened meanwhile, so a flood cannot flood the log. A gate, not a logger: the caller
 * builds its line only when `admit` lets it through, so an event kept out costs a
 * comparison and a count, with nothing allocated (the accounting listener calls it per
 * packet).
 */
export class LogThrottle {
  private lastAt = Number.NEGATIVE_INFINITY;
  private skipped = 0;

  constructor(
    private readonly everyMs = LOG_EVERY_MS,
    /** Milliseconds, as Date.now (read at each event, so fake timers move it; tests may pass their own). */
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * Counts one event. Undefined when it is not to be logged (a line went out less than
   * `everyMs` ago); otherwise how many events were kept out since the last line (0 for the
   * first), and this one's line is to be written now.
   */
  admit(): number | undefined {
    const now = this.now();
    if (now - this.lastAt < this.everyMs) {
      this.skipped++;
      return undefined;
    }
    const skipped = this.skipped;
    this.lastAt = now;
    this.skipped = 0;
    return skipped;
  }
}

/** The end of an admitted line: how many like it were kept out since the last one, if any. */
export function keptOut(skipped: number, what = ''): string {
  return skipped ? ` (${skipped} more${what ? ` ${what}` : ''} since the last line)` : '';
}
