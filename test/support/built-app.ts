import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * radgraph as built (`npm run build:server`, into dist/): what `npm start` and README's
 * command 1 run. Tests that run radgraph or its CLI as a process use these rather than ts-node,
 * which spent about 10 s compiling the sources at every start (on CI's 2 CPUs, under load).
 * Such a test file calls ensureBuilt() when it loads, which builds them first when a source is
 * newer.
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

/** A build that has held the lock this long was killed: the lock is taken over. */
const LOCK_STALE_MS = 5 * 60_000;

/**
 * Builds radgraph (`npm run build:server`) when dist/ is missing or older than a source, so that
 * a test running it as a process runs today's code; one jest worker builds while the others
 * wait for it. Synchronous, for a test file's top level (no hook timeout applies there). A build
 * that fails (a type error) throws, with tsc's output.
 */
export function ensureBuilt(): void {
  const lock = path.join(
    tmpdir(),
    `radgraph-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
  );
  for (;;) {
    if (!staleBuild()) return;
    try {
      mkdirSync(lock);
    } catch {
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > LOCK_STALE_MS)
        rmSync(lock, { force: true, recursive: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      continue;
    }
    try {
      const why = staleBuild();
      if (!why) return;
      process.stdout.write(`Building radgraph for the tests that run it as a process (${why})\n`);
      execFileSync('npm', ['run', '-s', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
      const still = staleBuild();
      if (still) throw new Error(`npm run build:server did not bring dist/ up to date: ${still}`);
      return;
    } finally {
      rmSync(lock, { force: true, recursive: true });
    }
  }
}
