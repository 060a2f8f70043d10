import type { DataSource } from 'typeorm';
import type { TestDatabase } from '../../test/support/test-database';
import { ms } from './report';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** Catches the SQL a DataSource sends while `capture` runs (through TypeORM's logger hook). */
export class SqlCatcher {
  private caught: Statement[] | null = null;

  constructor(ds: DataSource) {
    const logger = ds.logger;
    const logQuery = logger.logQuery.bind(logger);
    logger.logQuery = (sql, params, runner) => {
      this.caught?.push({ sql, params: params ?? [] });
      return logQuery(sql, params, runner);
    };
  }

  async capture<T>(work: () => Promise<T>): Promise<[T, Statement[]]> {
    this.caught = [];
    try {
      return [await work(), this.caught];
    } finally {
      this.caught = null;
    }
  }
}

export const isCount = (s: Statement) => /\bCOUNT\s*\(/i.test(s.sql);

interface PlanTable {
  table_name?: string;
  access_type?: string;
  key?: string;
  r_loops?: number;
  r_rows?: number;
  r_filtered?: number;
  using_index?: boolean;
  r_table_time_ms?: number;
}

/**
 * "`c`: full scan of index IDX_…, 200,000 rows", "`k`: range read of PRIMARY, 447 rows"…
 * `detail` adds whether the index alone answered, the share of rows the conditions kept, and
 * the time spent reading the table.
 */
function describeTable(t: PlanTable, detail: boolean): string {
  const access: Record<string, string> = {
    ALL: 'full table scan',
    index: 'scan of index',
    range: 'range read of',
    ref: 'lookups by',
    eq_ref: 'lookups by',
  };
  const how = t.access_type ? (access[t.access_type] ?? t.access_type) : '?';
  const rows = Math.round((t.r_rows ?? 0) * Math.max(1, t.r_loops ?? 1));
  const text = `\`${t.table_name}\`: ${how}${t.key ? ` ${t.key}` : ''}, ${rows.toLocaleString('en-US')} rows`;
  if (!detail) return text;
  const more = [
    t.using_index ? 'index only' : 'with row lookups',
    ...(typeof t.r_filtered === 'number' && t.r_filtered < 100
      ? [`${ms(t.r_filtered)}% kept`]
      : []),
    ...(typeof t.r_table_time_ms === 'number' ? [`${ms(t.r_table_time_ms)} ms reading`] : []),
  ];
  return `${text} (${more.join(', ')})`;
}

/** The tables of an ANALYZE FORMAT=JSON document, wherever they nest. */
function planTables(node: unknown, out: PlanTable[] = []): PlanTable[] {
  if (Array.isArray(node)) node.forEach((n) => planTables(n, out));
  else if (node !== null && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if (typeof obj.table_name === 'string') out.push(obj);
    Object.values(obj).forEach((v) => planTables(v, out));
  }
  return out;
}

/** Where a plan sorts or groups outside an index: "filesort", "temporary table". */
function planSteps(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => planSteps(n, out));
  else if (node !== null && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if ('filesort' in obj) out.add('filesort');
    if ('temporary_table' in obj) out.add('temporary table');
    Object.values(obj).forEach((v) => planSteps(v, out));
  }
  return out;
}

/**
 * MariaDB's ANALYZE FORMAT=JSON of each statement, COUNTs first, one line each:
 * "COUNT (7.4 ms): `k`: range read of IDX_…, 8,171 rows".
 */
export async function analyze(
  db: TestDatabase,
  statements: Statement[],
  opts: { label?: (s: Statement) => string; detail?: boolean } = {},
): Promise<string[]> {
  const label = opts.label ?? ((s: Statement) => (isCount(s) ? 'COUNT' : 'page'));
  const lines: string[] = [];
  for (const st of [...statements].sort((a, b) => Number(isCount(b)) - Number(isCount(a)))) {
    const [row] = await db.query<Record<string, string>>(
      `ANALYZE FORMAT=JSON ${st.sql}`,
      st.params,
    );
    const doc = JSON.parse(Object.values(row)[0]) as { query_block?: { r_total_time_ms?: number } };
    const tables =
      planTables(doc)
        .map((t) => describeTable(t, opts.detail ?? false))
        .join('; ') || `no table read: \`${st.sql.replace(/\s+/g, ' ').slice(0, 80)}\``;
    const steps = opts.detail ? [...planSteps(doc)].map((s) => `; ${s}`).join('') : '';
    lines.push(
      `${label(st)} (${ms(doc.query_block?.r_total_time_ms ?? NaN)} ms): ${tables}${steps}`,
    );
  }
  return lines;
}
