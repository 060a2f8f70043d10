import type { EntityManager } from 'typeorm';
import { chunksOf, placeholders } from '../common/sql/in-list';

/**
 * Forgets the monthly usage rollup (rg_usage_monthly) and the data-cap actions (rg_cap_actions)
 * kept under these usernames, in the caller's transaction: deleteCustomer's, and the one that
 * creates a customer (createCustomer, a CSV import). Both tables are keyed by the login, not by
 * the customer, so without it a new customer given a deleted customer's username started with
 * the old one's traffic of the month (FreeRADIUS's cap check and the DataCapEnforcer would
 * throttle or refuse them at once) and its cap action, and showed them as Customer.usage.
 * radacct, FreeRADIUS's history, is never touched.
 *
 * Clearing again when the customer is created catches what an old session added after the
 * delete: the Stop (or the last interims) of a session still open at the delete, which the
 * disconnect after its commit ends. A session of the old customer still open after the new one
 * is created (a disconnect that did not get through) counts for the new one from then on: the
 * rollup cannot tell the two apart.
 *
 * By the login whatever its case (usernames.ts): MariaDB's collation compares so, with the
 * primary key; SQLite's columns are BINARY, so NOCASE here.
 */
export async function forgetUsernameUsage(
  m: EntityManager,
  usernames: readonly string[],
): Promise<void> {
  const sqlite = m.connection.options.type === 'better-sqlite3';
  for (const chunk of chunksOf([...new Set(usernames)])) {
    const list = placeholders(chunk.length);
    const column = sqlite ? 'username COLLATE NOCASE' : 'username';
    for (const table of ['rg_usage_monthly', 'rg_cap_actions']) {
      await m.query(`DELETE FROM ${table} WHERE ${column} IN (${list})`, chunk);
    }
  }
}
