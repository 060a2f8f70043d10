import { execFileSync } from 'node:child_process';
import { ROOT, staleBuild } from './built-app';

/**
 * The integration project's global setup: builds radgraph (`npm run build:server`) when dist/
 * is missing or older than a source, so that the tests that run it as a process (built-app.ts)
 * run today's code. A build that fails (a type error) fails the run, with tsc's output.
 */
export default function buildIfStale(): void {
  const why = staleBuild();
  if (!why) return;
  process.stdout.write(`\nBuilding radgraph for the tests that run it as a process (${why})\n`);
  execFileSync('npm', ['run', '-s', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
  const still = staleBuild();
  if (still) throw new Error(`npm run build:server did not bring dist/ up to date: ${still}`);
}
