import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * radgraph as built (`npm run build:server`, into dist/): what `npm start` and README's
 * command 1 run. Tests that run radgraph or its CLI as a process use these rather than ts-node,
 * which spent about 10 s compiling the sources at every start (on CI's 2 CPUs, under load).
 * Such a test file calls ensureBuilt() when it loads, which builds them first when a source is
 * newer than the last build a test made.
 */
export const ROOT = path.join(__dirname, '..', '..');
export const BUILT_MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
export const BUILT_CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

/**
 * Written once a build succeeded, dated when it started (a source saved during the build is
 * newer), with the list of its inputs (a source deleted since is a change too).
 */
const STAMP = path.join(ROOT, 'dist', '.test-build-stamp');
/** What the server build reads: tsconfig.json's include, and the build script itself. */
const INPUTS = ['src', 'ormconfig.ts', 'tsconfig.json', 'package.json', 'package-lock.json'];
const NOT_INPUT_DIRS = new Set([path.join(ROOT, 'src', 'console', 'web')]);
const notInput = (file: string) => /\.spec\.ts$/.test(file);

/** The files the build reads, with their modification times. */
function inputs(): Array<{ file: string; mtimeMs: number }> {
  const out: Array<{ file: string; mtimeMs: number }> = [];
  const walk = (file: string) => {
    if (NOT_INPUT_DIRS.has(file) || notInput(file)) return;
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) return;
    if (!stat.isDirectory()) out.push({ file, mtimeMs: stat.mtimeMs });
    else for (const entry of readdirSync(file).sort()) walk(path.join(file, entry));
  };
  for (const input of INPUTS) walk(path.join(ROOT, input));
  return out;
}

const listOf = (files: Array<{ file: string }>) =>
  files.map((f) => path.relative(ROOT, f.file)).join('\n');

/** Why dist/ must be built again (no successful build yet, a source changed), else null. */
export function staleBuild(): string | null {
  const stamp = statSync(STAMP, { throwIfNoEntry: false });
  if (!stamp) return 'no build by the tests yet';
  const files = inputs();
  const newer = files.find((f) => f.mtimeMs > stamp.mtimeMs);
  if (newer) return `${path.relative(ROOT, newer.file)} is newer than the build`;
  if (readFileSync(STAMP, 'utf8') !== listOf(files)) return 'a source was added or removed';
  return null;
}

/** A build that has held the lock this long was killed, whatever its process says. */
const LOCK_STALE_MS = 10 * 60_000;

/**
 * Builds radgraph (`npm run build:server`) when staleBuild says so, so that a test running it
 * as a process runs today's code; one jest worker builds while the others wait for it (a lock
 * file naming its process). Synchronous, for a test file's top level (no hook timeout applies
 * there). A build that fails (a type error) throws, with tsc's output, and leaves no stamp.
 */
export function ensureBuilt(): void {
  const lock = path.join(
    tmpdir(),
    `radgraph-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
  );
  for (;;) {
    const held = holder(lock);
    if (held !== null) {
      if (held.alive && Date.now() - held.since < LOCK_STALE_MS) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
        continue;
      }
      rmSync(lock, { force: true }); // its process is gone: a build that did not finish
    }
    if (!staleBuild()) return;
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      continue; // another worker took it first
    }
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
    try {
      const why = staleBuild();
      if (!why) return;
      process.stdout.write(`Building radgraph for the tests that run it as a process (${why})\n`);
      rmSync(STAMP, { force: true });
      const started = new Date();
      const files = inputs();
      execFileSync('npm', ['run', '-s', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
      writeFileSync(STAMP, listOf(files));
      utimesSync(STAMP, started, started);
    } finally {
      if (holder(lock)?.pid === process.pid) rmSync(lock, { force: true });
    }
  }
}

/** The lock's process, whether it still runs, and since when it holds the lock; null: free. */
function holder(lock: string): { pid: number; alive: boolean; since: number } | null {
  let stat, text;
  try {
    stat = statSync(lock);
    text = readFileSync(lock, 'utf8');
  } catch {
    return null; // released meanwhile
  }
  const pid = Number(text || NaN);
  let alive = true; // just made, its pid not written yet
  if (Number.isInteger(pid)) {
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
  }
  return { pid, alive, since: stat.mtimeMs };
}
