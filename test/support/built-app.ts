import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * radgraph as built (`npm run build:server`, into dist/): what `npm start` and README's
 * command 1 run. Tests that run radgraph or its CLI as a process use these rather than ts-node,
 * which spent about 10 s compiling the sources at every start (on CI's 2 CPUs, under load);
 * the integration project's global setup (build-if-stale.ts) builds them first when a source
 * is newer.
 */
export const ROOT = path.join(__dirname, '..', '..');
export const BUILT_MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
export const BUILT_CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

/** What the server build reads (tsconfig.json's include), outside src/console/web. */
const INPUTS = ['src', 'ormconfig.ts', 'tsconfig.json', 'package-lock.json'];
const NOT_INPUTS = new Set([path.join(ROOT, 'src', 'console', 'web')]);

/** The built entry is missing, or older than a file it is built from: the reason, else null. */
export function staleBuild(): string | null {
  const built = statSync(BUILT_MAIN, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return `${path.relative(ROOT, BUILT_MAIN)} is missing`;
  for (const input of INPUTS) {
    const newer = newerThan(path.join(ROOT, input), built);
    if (newer) return `${path.relative(ROOT, newer)} is newer than the build`;
  }
  return null;
}

function newerThan(file: string, time: number): string | null {
  if (NOT_INPUTS.has(file)) return null;
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return null;
  if (!stat.isDirectory()) return stat.mtimeMs > time ? file : null;
  for (const entry of readdirSync(file)) {
    const newer = newerThan(path.join(file, entry), time);
    if (newer) return newer;
  }
  return null;
}
