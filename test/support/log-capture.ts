/**
 * Everything the process writes to stdout and stderr from `start()` to `stop()` (Nest's
 * logger writes there), for tests that search a whole run's logs: for a secret that must
 * never appear, or for a line that must. `text()` is without the terminal colours.
 */
export class LogCapture {
  private readonly chunks: string[] = [];
  private readonly restore: Array<() => void> = [];

  start(): this {
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write;
      const original = write.bind(stream);
      stream.write = (chunk: unknown, ...rest: unknown[]) => {
        this.chunks.push(String(chunk));
        return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      };
      this.restore.push(() => {
        stream.write = write;
      });
    }
    return this;
  }

  stop(): void {
    for (const undo of this.restore.splice(0)) undo();
  }

  text(): string {
    // eslint-disable-next-line no-control-regex
    return this.chunks.join('').replace(/\u001b\[[0-9;]*m/g, '');
  }
}
