import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DataDirError, makeDataDir } from '../../config/data-dir';

/**
 * A secret radgraph made itself and keeps in DATA_DIR (the admin token, the secrets key when
 * they are not in the environment, outside production): read from `dir/file` when it holds
 * one that `valid` accepts, else made by `make` and written there, readable only by its
 * owner, so it survives restarts.
 */
export function storedSecret(
  dir: string,
  file: string,
  make: () => string,
  valid: (value: string) => boolean,
): { value: string; source: 'generated' | 'stored'; file: string } {
  const full = path.join(dir, file);
  if (existsSync(full)) {
    const value = readFileSync(full, 'utf8').trim();
    if (valid(value)) return { value, source: 'stored', file: full };
  }
  // Owner-only: DATA_DIR holds the secrets and the embedded database (customer passwords).
  makeDataDir(dir);
  const value = make();
  try {
    writeFileSync(full, `${value}\n`, { mode: 0o600 });
    chmodSync(full, 0o600);
  } catch (err) {
    throw new DataDirError('DATA_DIR', dir, err, `write ${file} in`);
  }
  return { value, source: 'generated', file: full };
}
