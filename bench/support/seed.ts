import type { TestDatabase } from '../../test/support/test-database';

/**
 * Multi-row INSERTs of `rows` into `table`, `batch` rows a statement, three statements at a
 * time (the test database's pool has four connections).
 */
export async function insertRows(
  db: TestDatabase,
  table: string,
  columns: string[],
  rows: unknown[][],
  batch = 2000,
): Promise<void> {
  const sql = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`;
  const batches: unknown[][][] = [];
  for (let i = 0; i < rows.length; i += batch) batches.push(rows.slice(i, i + batch));
  for (let i = 0; i < batches.length; i += 3) {
    await Promise.all(batches.slice(i, i + 3).map((b) => db.query(sql, [b])));
  }
}

/** SHOW CREATE TABLE, without the AUTO_INCREMENT counter that loading rows moves. */
async function showCreateTable(db: TestDatabase, table: string): Promise<string> {
  const [row] = await db.query<Record<string, string>>(`SHOW CREATE TABLE \`${table}\``);
  return Object.values(row)[1].replace(/ AUTO_INCREMENT=\d+/, '');
}

/** CREATE TRIGGER statements of the table's triggers, in their order. */
async function triggers(
  db: TestDatabase,
  table: string,
): Promise<Array<{ name: string; sql: string }>> {
  const names = await db.query<{ name: string }>(
    `SELECT trigger_name AS name FROM information_schema.triggers
     WHERE event_object_schema = DATABASE() AND event_object_table = ?
     ORDER BY action_timing, event_manipulation, action_order`,
    [table],
  );
  const out: Array<{ name: string; sql: string }> = [];
  for (const { name } of names) {
    const [row] = await db.query<Record<string, string>>(`SHOW CREATE TRIGGER \`${name}\``);
    out.push({ name, sql: row['SQL Original Statement'] });
  }
  return out;
}

/**
 * Runs `load` the way a bulk loader would: with the table's secondary indexes and triggers
 * dropped. Then adds the indexes back, in their order and from their own definitions (one
 * sorted build each instead of millions of random inserts), re-creates the triggers, and
 * checks that the table ends up exactly as the migrations made it.
 */
export async function bulkLoad(
  db: TestDatabase,
  table: string,
  load: () => Promise<void>,
): Promise<void> {
  const before = await showCreateTable(db, table);
  const triggersBefore = await triggers(db, table);
  // "  UNIQUE KEY `acctuniqueid` (`acctuniqueid`)," → name and definition
  const indexes = [
    ...before.matchAll(/^\s*((?:UNIQUE |FULLTEXT |SPATIAL )?KEY `((?:[^`]|``)+)` .*?),?$/gm),
  ].map((m) => ({ definition: m[1], name: m[2] }));
  if (indexes.length > 0) {
    await db.query(
      `ALTER TABLE \`${table}\` ${indexes.map((ix) => `DROP INDEX \`${ix.name}\``).join(', ')}`,
    );
  }
  for (const t of triggersBefore) await db.query(`DROP TRIGGER \`${t.name}\``);
  await load();
  for (const t of triggersBefore) await db.query(t.sql);
  if (indexes.length > 0) {
    await db.query(
      `ALTER TABLE \`${table}\` ${indexes.map((ix) => `ADD ${ix.definition}`).join(', ')}`,
    );
  }
  const after = await showCreateTable(db, table);
  const triggersAfter = await triggers(db, table);
  if (after !== before || JSON.stringify(triggersAfter) !== JSON.stringify(triggersBefore)) {
    throw new Error(`${table} differs from the migrations' after seeding:\n${after}`);
  }
}
