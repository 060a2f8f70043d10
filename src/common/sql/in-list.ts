/**
 * Values one `IN (…)` list binds at most. SQLite refuses a statement with more than 32,766
 * parameters ("too many SQL variables", the limit of better-sqlite3 12's build), and on
 * MySQL/MariaDB a list of tens of thousands makes a statement of megabytes that nears
 * max_allowed_packet. 1,000 is at least every batch a hot path reads at once (the accounting
 * listener's 500 packets, a page of 500), so those stay one statement, and leaves room for a
 * statement's other parameters or a list used twice; TypeORM's `In()` also expands a longer
 * list more slowly (40,000 rows by 5,000 took nearly twice as long as by 1,000 on SQLite).
 */
export const IN_LIST_MAX = 1000;

/** `?, ?, …`: the placeholders of an `IN (…)` list of `count` values. */
export function placeholders(count: number): string {
  return count > 0 ? `${'?, '.repeat(count - 1)}?` : '';
}

/** `values` in consecutive slices of at most `size`: one slice when they fit, none when empty. */
export function chunksOf<T>(values: readonly T[], size: number = IN_LIST_MAX): T[][] {
  if (!(size >= 1)) throw new Error(`chunk size must be at least 1, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/**
 * `run` on each slice of `values` (chunksOf), one after the other (a transaction's statements
 * run in turn anyway), with the results in order: a read by an `IN (…)` list of any length,
 * in one statement when it fits.
 */
export async function inChunks<T, R>(
  values: readonly T[],
  run: (chunk: T[]) => Promise<readonly R[]>,
  size: number = IN_LIST_MAX,
): Promise<R[]> {
  const out: R[] = [];
  for (const chunk of chunksOf(values, size)) for (const r of await run(chunk)) out.push(r);
  return out;
}
