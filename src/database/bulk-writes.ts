import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { chunksOf, placeholders } from '../common/sql/in-list';

/** Parameters a statement at most: well under SQLite's 32,766 and MySQL's packet size. */
const PARAMETERS_PER_STATEMENT = 6000;

/**
 * Multi-row INSERTs of plain values into `table`, in the caller's transaction. Values must be
 * what both drivers bind as they are (strings, numbers, null): see insertEntities for rows
 * with dates and booleans.
 */
export async function insertRows(
  m: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
): Promise<void> {
  const q = (name: string) => m.connection.driver.escape(name);
  const head = `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES `;
  const tuple = `(${placeholders(columns.length)})`;
  const per = Math.max(1, Math.floor(PARAMETERS_PER_STATEMENT / columns.length));
  for (const part of chunksOf(rows, per)) {
    await m.query(head + part.map(() => tuple).join(', '), part.flat());
  }
}

/**
 * Multi-row INSERTs of entities, each column's value converted as TypeORM would persist it
 * (dates, booleans), without TypeORM's per-entity work: for bulk loads of thousands of rows.
 * Generated ids, the created/updated dates and columns TypeORM does not insert (`insert:
 * false`) are left to the database; the caller reads the ids back if it needs them.
 */
export async function insertEntities<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  entities: readonly T[],
): Promise<void> {
  const meta = m.connection.getMetadata(target);
  const columns = meta.columns.filter(
    (c) => c.isInsert && !(c.isGenerated || c.isCreateDate || c.isUpdateDate || c.isVirtual),
  );
  const driver = m.connection.driver;
  const rows = entities.map((e) =>
    columns.map((c): unknown => driver.preparePersistentValue(c.getEntityValue(e), c) ?? null),
  );
  await insertRows(
    m,
    meta.tableName,
    columns.map((c) => c.databaseName),
    rows,
  );
}

/**
 * One UPDATE for many entities, each given property's column set per row
 * (`col = CASE id WHEN ? THEN ? … END`), values converted as TypeORM would persist them, and
 * the update date column set to now. For bulk changes of thousands of rows (a CSV import).
 */
export async function updateEntities<T extends ObjectLiteral>(
  m: EntityManager,
  target: EntityTarget<T>,
  entities: readonly T[],
  properties: ReadonlyArray<keyof T & string>,
): Promise<void> {
  if (entities.length === 0 || properties.length === 0) return;
  const meta = m.connection.getMetadata(target);
  const driver = m.connection.driver;
  const q = (name: string) => driver.escape(name);
  const [id] = meta.primaryColumns;
  const per = Math.max(1, Math.floor(PARAMETERS_PER_STATEMENT / (2 * properties.length + 1)));
  for (const part of chunksOf(entities, per)) {
    const params: unknown[] = [];
    const sets = properties.map((p) => {
      const column = meta.findColumnWithPropertyName(p);
      if (!column) throw new Error(`${meta.name} has no property ${p}`);
      for (const e of part) {
        params.push(id.getEntityValue(e), driver.preparePersistentValue(e[p], column) ?? null);
      }
      return `${q(column.databaseName)} = CASE ${q(id.databaseName)} ${part.map(() => 'WHEN ? THEN ?').join(' ')} END`;
    });
    if (meta.updateDateColumn)
      sets.push(`${q(meta.updateDateColumn.databaseName)} = CURRENT_TIMESTAMP`);
    params.push(...part.map((e): unknown => id.getEntityValue(e)));
    await m.query(
      `UPDATE ${q(meta.tableName)} SET ${sets.join(', ')} WHERE ${q(id.databaseName)} IN (${placeholders(part.length)})`,
      params,
    );
  }
}

/** affectedRows for a write in `m`'s transaction, on its query runner. */
export async function affectedRowsIn(
  m: EntityManager,
  sql: string,
  params: unknown[],
): Promise<number> {
  const result = (await m.queryRunner!.query(sql, params, true)) as { affected?: number };
  return result.affected ?? 0;
}

/**
 * Runs one write on a query runner of its own (on SQLite, the one shared connection); returns
 * the rows it matched, as the driver counts them (MySQL's affectedRows, SQLite's changes).
 */
export async function affectedRows(
  dataSource: DataSource,
  sql: string,
  params: unknown[],
): Promise<number> {
  const runner = dataSource.createQueryRunner();
  try {
    const result = (await runner.query(sql, params, true)) as { affected?: number };
    return result.affected ?? 0;
  } finally {
    await runner.release();
  }
}
