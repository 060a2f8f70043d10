import { In, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { chunksOf } from '../common/sql/in-list';
import { insertRows } from '../database/bulk-writes';
import { likeLiteral } from '../common/sql/like';
import { CustomerEntity } from './customer.entity';
import { CustomerSearchKey } from './customer-search-key.entity';
import { SEARCH_KEY_LENGTH, SEARCH_KEY_MIN, searchKeys } from './customer-rules';

/** (Re)writes a customer's search keys, inside the caller's transaction. */
export function writeSearchKeys(m: EntityManager, c: CustomerEntity): Promise<void> {
  return writeSearchKeysMany(m, [c], false);
}

/**
 * The search keys of many customers at once (a CSV import), with multi-row statements;
 * `fresh`: new customers, who have none to remove.
 */
export async function writeSearchKeysMany(
  m: EntityManager,
  customers: readonly CustomerEntity[],
  fresh: boolean,
): Promise<void> {
  if (customers.length === 0) return;
  if (!fresh) {
    for (const part of chunksOf(customers.map((c) => c.id))) {
      await m.getRepository(CustomerSearchKey).delete({ customerId: In(part) });
    }
  }
  const meta = m.connection.getMetadata(CustomerSearchKey);
  const rows = customers.flatMap((c) => searchKeys(c).map((k, pos) => [c.id, pos, k]));
  await insertRows(m, meta.tableName, ['customer_id', 'pos', 'k'], rows);
}

/** Whether the search keys find a term: exactly, only as candidates to check, or not at all. */
export function keysAnswer(term: string): 'exactly' | 'candidates' | 'no' {
  const length = [...term].length;
  if (length < SEARCH_KEY_MIN) return 'no';
  return length <= SEARCH_KEY_LENGTH ? 'exactly' : 'candidates';
}

export interface KeyMatches {
  /** The search keys matching the terms, as a query to select from. */
  query: () => SelectQueryBuilder<CustomerSearchKey>;
  /** The same as SQL for `c.id IN (…)`, with its parameters. */
  select: string;
  params: Record<string, string>;
}

/**
 * The key lookups for (lower-case) terms of SEARCH_KEY_MIN characters or more, as a select of
 * customer ids and as a query. MySQL: LIKE 'prefix%' is an index range (case-insensitive, like
 * its collation). SQLite's LIKE cannot use the index; keys and terms are lower-case, so a
 * binary range is the same match. `param` prefixes the parameter names, for embedding the
 * select in another query.
 */
export function keyMatches(dataSource: DataSource, terms: string[], param = ''): KeyMatches {
  const sqlite = dataSource.options.type === 'better-sqlite3';
  const params: Record<string, string> = {};
  const conditions = terms.map((t, i) => {
    const prefix = [...t].slice(0, SEARCH_KEY_LENGTH).join('');
    if (sqlite) {
      params[`${param}lo${i}`] = prefix;
      params[`${param}hi${i}`] = `${prefix}\uffff`;
      return `(k.k >= :${param}lo${i} AND k.k < :${param}hi${i})`;
    }
    params[`${param}k${i}`] = `${likeLiteral(prefix)}%`;
    return `k.k LIKE :${param}k${i} ESCAPE '!'`;
  });
  const query = () =>
    dataSource
      .getRepository(CustomerSearchKey)
      .createQueryBuilder('k')
      .where(`(${conditions.join(' OR ')})`, params);
  return { query, select: query().select('k.customer_id').getQuery(), params };
}

/**
 * The customers whose username contains `term` (case-insensitive, LIKE's wildcards taken
 * literally), selecting their username, as `c`, with parameters named after `param` (for
 * `username IN (…)` in another query). From SEARCH_KEY_MIN characters on, the search keys find
 * the candidates (an index range; the keys also hold account numbers and phone digits, so each
 * candidate's username is then checked); a shorter term scans the customers' usernames.
 */
export function customersWithUsernameContaining(
  dataSource: DataSource,
  term: string,
  param: string,
): SelectQueryBuilder<CustomerEntity> {
  const t = term.toLowerCase();
  const qb = dataSource.getRepository(CustomerEntity).createQueryBuilder('c').select('c.username');
  if (keysAnswer(t) !== 'no') {
    const keys = keyMatches(dataSource, [t], param);
    qb.where(`c.id IN (${keys.select})`, keys.params);
  }
  return qb.andWhere(`c.username LIKE :${param}u ESCAPE '!'`, {
    [`${param}u`]: `%${likeLiteral(t)}%`,
  });
}
