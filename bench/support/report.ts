import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as prettier from 'prettier';
import type { TestDatabase } from '../../test/support/test-database';

export async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await work();
  return [performance.now() - t0, result];
}

/** Nearest-rank percentile (ms). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function ms(x: number): string {
  if (Number.isNaN(x)) return 'n/a';
  return x < 10 ? x.toFixed(1) : x.toFixed(0);
}

export const p50p95 = (xs: number[]) => `${ms(percentile(xs, 50))} / ${ms(percentile(xs, 95))}`;

/** "p50 | **p95** | p99 | max" cells of a Markdown table row. */
export const percentileCells = (xs: number[]) =>
  `${ms(percentile(xs, 50))} | **${ms(percentile(xs, 95))}** | ${ms(percentile(xs, 99))} | ` +
  `${ms(Math.max(...xs))}`;

export const defined = (xs: Array<number | undefined>) =>
  xs.filter((x): x is number => x !== undefined);

/** CPUs, RAM, MariaDB and its buffer pool, Node: the machine line of a result. */
export async function machine(db: TestDatabase): Promise<string> {
  const [v] = await db.query<{ v: string; pool: string }>(
    'SELECT VERSION() AS v, @@innodb_buffer_pool_size AS pool',
  );
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return [
    `${os.availableParallelism()} CPUs (nproc; ${cpu})`,
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `MariaDB ${v.v} (innodb_buffer_pool_size ${Math.round(Number(v.pool) / 2 ** 20)} MiB)`,
    `Node ${process.version}`,
  ].join(', ');
}

/** The radgraph that ran: "commit 0cd39f2", "+ uncommitted changes in src/" when there are. */
export function revision(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

/** The command that ran bench/<name>.ts with this process's arguments, less --write. */
export function commandLine(name: string): string {
  const args = process.argv.slice(2).filter((a) => a !== '--write');
  return `npx ts-node -T bench/${name}.ts${args.map((a) => ` ${a}`).join('')}`;
}

/**
 * Replaces the section of bench/RESULTS.md between `<!-- name:start -->` and
 * `<!-- name:end -->` (appends it the first time) and formats the file with the repository's
 * Prettier settings.
 */
export async function writeResults(name: string, section: string): Promise<string> {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const file = path.join(__dirname, '..', 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const block = `${start}\n\n${section}\n\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(next, { ...options, filepath: file }));
  return file;
}
