import { Type } from '@nestjs/common';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { Field, Int, ObjectType } from '@nestjs/graphql';
import { BadUserInputError } from '../errors/app-error';
import { ListSize } from './list-size';

@ObjectType()
export class PageInfo {
  @Field({
    description:
      'Whether nodes follow this page: with first: 0 (no edges), whether any follow the cursor (after), or any at all.',
  })
  hasNextPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: "The last edge's cursor, for after; null when the page has no edges.",
  })
  endCursor!: string | null;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/**
 * The Relay connection base of a node type: it registers `<Name>Edge { node cursor }` and
 * returns an abstract `{ edges pageInfo totalCount }` for the concrete, named connection:
 *   @ObjectType('SessionConnection') class SessionConnection extends ConnectionOf(Session, 'Session') {}
 */
export function ConnectionOf<T>(node: Type<T>, name: string): Type<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<T> {
    @Field(() => node)
    node!: T;

    @Field()
    cursor!: string;
  }

  @ObjectType({ isAbstract: true })
  abstract class ConnectionType implements Connection<T> {
    // As many as the connection's first/last: the complexity limit counted those already.
    @Field(() => [EdgeType])
    @ListSize({ max: 1 })
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'How many nodes match, over all pages.' })
    totalCount!: number;
  }

  return ConnectionType as Type<Connection<T>>;
}

export const MAX_PAGE_SIZE = 500;

/**
 * Why `value` is no page size (0..500) for the argument `field`, or null when it is one:
 * reason PAGE_SIZE_NEGATIVE below 0, PAGE_TOO_LARGE above 500, INVALID_PAGE_SIZE for a
 * fraction or NaN (GraphQL's Int coercion refuses those before they get here).
 */
export function pageSizeProblem(value: number, field = 'first'): BadUserInputError | null {
  const allowed = `an integer from 0 to ${MAX_PAGE_SIZE}`;
  if (!Number.isInteger(value)) {
    return new BadUserInputError(field, `${field} must be ${allowed}`, 'INVALID_PAGE_SIZE');
  }
  if (value < 0) {
    return new BadUserInputError(
      field,
      `${field} must not be negative: give ${allowed} (0 answers totalCount and pageInfo only)`,
      'PAGE_SIZE_NEGATIVE',
    );
  }
  if (value > MAX_PAGE_SIZE) {
    return new BadUserInputError(field, `${field} must be ${allowed}`, 'PAGE_TOO_LARGE');
  }
  return null;
}

/** Checks `first` (0..500) for the field named in errors (see pageSizeProblem). */
export function pageSize(first: number, field = 'first'): number {
  const problem = pageSizeProblem(first, field);
  if (problem) throw problem;
  return first;
}

/**
 * Opaque, stable cursors over a numeric key (the row id): base64url of "<prefix>:<id>".
 * They stay valid while rows are added or removed around them.
 */
export function encodeCursor(prefix: string, id: number | string): string {
  return Buffer.from(`${prefix}:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(
  prefix: string,
  cursor: string | null | undefined,
  field = 'after',
): string | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const match = /^([a-z]+):(\d{1,20})$/.exec(text);
  if (!match || match[1] !== prefix) {
    throw new BadUserInputError(field, `${field} is not a cursor of this list`);
  }
  return match[2];
}

/** Builds a connection from up to first+1 rows fetched in cursor order. */
export function toConnection<R, T>(
  rows: R[],
  first: number,
  totalCount: number,
  cursorOf: (row: R) => string,
  nodeOf: (row: R) => T,
): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((row) => ({ node: nodeOf(row), cursor: cursorOf(row) }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null,
    },
  };
}

/**
 * One page of a list ordered newest first by a numeric key (the row id), with cursors that
 * stay valid while rows come and go. `query` is the filtered query; it is counted for
 * totalCount and paged with `key < cursor ORDER BY key DESC`.
 */
export async function keysetPage<R extends ObjectLiteral>(opts: {
  query: () => SelectQueryBuilder<R>;
  /** A cheaper way to count the same rows, when there is one. */
  count?: () => Promise<number>;
  /** A cheaper way to read one page (up to `limit` rows with key below `before`, newest first). */
  page?: (limit: number, before: string | null) => Promise<R[]>;
  key: string;
  idOf: (row: R) => number | string;
  prefix: string;
  first: number;
  after?: string | null;
}): Promise<Connection<R>> {
  const limit = pageSize(opts.first);
  const before = decodeCursor(opts.prefix, opts.after);
  const readPage = (): Promise<R[]> => {
    if (opts.page) return opts.page(limit + 1, before);
    const page = opts
      .query()
      .orderBy(opts.key, 'DESC')
      .limit(limit + 1);
    if (before !== null) page.andWhere(`${opts.key} < :keysetBefore`, { keysetBefore: before });
    return page.getMany();
  };
  const [rows, totalCount] = await Promise.all([
    // first: 0 still reads one row: hasNextPage says whether any follow the cursor (Relay).
    readPage(),
    opts.count ? opts.count() : opts.query().getCount(),
  ]);
  return toConnection(
    rows,
    limit,
    totalCount,
    (r) => encodeCursor(opts.prefix, opts.idOf(r)),
    (r) => r,
  );
}

/** The same page with each node turned into its GraphQL model; cursors stay as they are. */
export function mapConnection<R, T>(page: Connection<R>, toNode: (row: R) => T): Connection<T> {
  return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toNode(e.node) })) };
}
