import { mkdirSync } from 'node:fs';

/**
 * A directory radgraph must make or write (DATA_DIR, the directory of DATABASE_URL's
 * sqlite: file) that it cannot: the message names the variable to change, as a ConfigError
 * does, instead of the bare `EACCES: permission denied, mkdir '…'`.
 */
export class DataDirError extends Error {
  override name = 'DataDirError';
  constructor(
    readonly variable: string,
    readonly dir: string,
    cause: unknown,
    action = 'create the directory',
  ) {
    super(
      `${variable}: cannot ${action} "${dir}" (${fsReason(cause)}): create it for the user radgraph runs as, or set ${variable} to a place that user can write`,
    );
  }
}

/** `EACCES: permission denied` from `EACCES: permission denied, mkdir '/var/lib/radgraph'`. */
function fsReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(', ')[0];
}

/** Makes `dir` (owner-only: it holds secrets and the embedded database) unless it exists. */
export function makeDataDir(dir: string, variable = 'DATA_DIR'): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataDirError(variable, dir, err);
  }
}
