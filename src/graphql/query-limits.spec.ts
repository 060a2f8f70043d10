import { buildSchema, parse, type GraphQLSchema } from 'graphql';
import { LIST_SIZE_EXTENSION, type ListSizeHint } from '../common/pagination/list-size';
import {
  MAX_COMPLEXITY,
  MAX_DEPTH,
  measure,
  queryLimitErrors,
  UNBOUNDED_LIST_SIZE,
} from './query-limits';

/** A schema shaped like radgraph's, with the ListSize hints its resolvers set. */
function testSchema(): GraphQLSchema {
  const schema = buildSchema(`
    type Query {
      customers(first: Int = 50, after: String): CustomerConnection!
      nasDevices: [Nas!]!
      viewer: Viewer
    }
    type Subscription {
      sessionEventBatches(maxLatencyMs: Int = 100): [SessionEvent!]!
      sessionEvents: SessionEvent!
    }
    type Viewer { name: String }
    type Nas { id: ID! onlineCount: Int! }
    type CustomerConnection { edges: [CustomerEdge!]! totalCount: Int! }
    type CustomerEdge { node: Customer! cursor: String! }
    type Customer {
      id: ID!
      sessions(first: Int = 20, after: String): SessionConnection!
      ledger(first: Int = 20): [Ledger!]!
      usageHistory(months: Int! = 6): [Usage!]!
    }
    type Ledger { id: ID! }
    type Usage { month: String! }
    type SessionConnection { edges: [SessionEdge!]! totalCount: Int! }
    type SessionEdge { node: Session! }
    type Session { id: ID! customer: Customer nas: Nas }
    type SessionEvent { type: String! session: Session! }
  `);
  const hint = (type: string, field: string, value: ListSizeHint) => {
    const def = schema.getType(type) as unknown as {
      getFields(): Record<string, { extensions: Record<string, unknown> }>;
    };
    def.getFields()[field].extensions = { [LIST_SIZE_EXTENSION]: value };
  };
  hint('Subscription', 'sessionEventBatches', { max: 2000 });
  hint('Customer', 'usageHistory', { max: 120, argument: 'months' });
  hint('CustomerConnection', 'edges', { max: 1 });
  hint('SessionConnection', 'edges', { max: 1 });
  return schema;
}

describe('query limits', () => {
  const schema = testSchema();

  it('measures depth through fragments and ignores introspection', () => {
    const doc = parse(`
      query { a { b { ...F } } __schema { types { fields { type { ofType { name } } } } } }
      fragment F on B { c { d } }
    `);
    expect(measure(doc).depth).toBe(4);
  });

  it('multiplies what is inside a list by its first argument', () => {
    const query =
      '{ customers(first: 100) { edges { node { id sessions(first: 10) { totalCount } } } } }';
    // customers 1, edges 100, node 100, id 100, sessions 100, totalCount 100*10
    expect(measure(parse(query)).complexity).toBe(1 + 100 + 100 + 100 + 100 + 1000);
    // The same with the schema: edges are the page that first asked for, not more.
    expect(measure(parse(query), schema).complexity).toBe(1 + 100 + 100 + 100 + 100 + 1000);
  });

  it('counts a variable first as the largest page', () => {
    const doc = parse('query($n: Int) { customers(first: $n) { totalCount } }');
    expect(measure(doc).complexity).toBe(1 + 500);
    expect(measure(doc, schema).complexity).toBe(1 + 500);
  });

  it('counts a page without first as the default page', () => {
    const doc = parse('{ customers { edges { node { id sessions { totalCount } } } } }');
    expect(measure(doc, schema).complexity).toBe(1 + 50 + 50 + 50 + 50 + 50 * 20);
    const ledger = parse('{ customers(first: 1) { edges { node { ledger { id } } } } }');
    expect(measure(ledger, schema).complexity).toBe(1 + 1 + 1 + 1 + 20);
  });

  it('counts a batch subscription as its largest batch', () => {
    const doc = parse('subscription { sessionEventBatches { type session { id } } }');
    expect(measure(doc, schema).complexity).toBe(1 + 2000 * 3);
    // One event per message: no list.
    const single = parse('subscription { sessionEvents { type session { id } } }');
    expect(measure(single, schema).complexity).toBe(4);
    // Nested history per event: refused, as the same selection over a page of 50 is.
    const nested = parse(`subscription { sessionEventBatches(maxLatencyMs: 0) {
      session { customer { sessions(first: 500) { totalCount edges { node { nas { onlineCount } } } } } }
    } }`);
    expect(measure(nested, schema).complexity).toBeGreaterThan(MAX_COMPLEXITY);
    expect(queryLimitErrors(nested, schema).map((e) => e.extensions.code)).toEqual([
      'QUERY_TOO_COMPLEX',
    ]);
  });

  it('counts a list sized by another argument by it, and an unknown list as UNBOUNDED_LIST_SIZE', () => {
    const months = (arg: string) =>
      measure(
        parse(
          `query($m: Int!) { customers(first: 1) { edges { node { usageHistory${arg} { month } } } } }`,
        ),
        schema,
      ).complexity - 4;
    expect(months('')).toBe(6);
    expect(months('(months: 24)')).toBe(24);
    expect(months('(months: 100000)')).toBe(120);
    expect(months('(months: $m)')).toBe(120);
    expect(measure(parse('{ nasDevices { id onlineCount } }'), schema).complexity).toBe(
      1 + 2 * UNBOUNDED_LIST_SIZE,
    );
  });

  it('follows fragments and inline fragments to their types', () => {
    const doc = parse(`
      subscription { sessionEventBatches { ...E } }
      fragment E on SessionEvent { ... on SessionEvent { session { id } } }
    `);
    expect(measure(doc, schema).complexity).toBe(1 + 2000 * 2);
  });

  it('rejects too deep and too complex documents with clear codes', () => {
    const deep = parse(`{ ${'a { '.repeat(MAX_DEPTH + 1)}b${' }'.repeat(MAX_DEPTH + 1)} }`);
    expect(queryLimitErrors(deep, schema).map((e) => e.extensions.code)).toEqual([
      'QUERY_TOO_DEEP',
    ]);
    const wide = parse('{ a(first: 500) { b(first: 500) { c } } }');
    expect(measure(wide).complexity).toBeGreaterThan(MAX_COMPLEXITY);
    expect(queryLimitErrors(wide, schema).map((e) => e.extensions.code)).toEqual([
      'QUERY_TOO_COMPLEX',
    ]);
    expect(queryLimitErrors(parse('{ viewer { name } }'), schema)).toEqual([]);
  });

  it('survives fragment cycles (validation reports them)', () => {
    const doc = parse('{ a { ...F } } fragment F on A { b { ...F } }');
    expect(measure(doc).depth).toBe(2);
  });
});
