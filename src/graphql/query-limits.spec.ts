import { parse } from 'graphql';
import { MAX_COMPLEXITY, MAX_DEPTH, measure, queryLimitErrors } from './query-limits';

describe('query limits', () => {
  it('measures depth through fragments and ignores introspection', () => {
    const doc = parse(`
      query { a { b { ...F } } __schema { types { fields { type { ofType { name } } } } } }
      fragment F on B { c { d } }
    `);
    expect(measure(doc).depth).toBe(4);
  });

  it('multiplies what is inside a list by its first argument', () => {
    const doc = parse(
      '{ customers(first: 100) { edges { node { id sessions(first: 10) { totalCount } } } } }',
    );
    // customers 1, edges 100, node 100, id 100, sessions 100, totalCount 100*10
    expect(measure(doc).complexity).toBe(1 + 100 + 100 + 100 + 100 + 1000);
  });

  it('counts a variable first as the largest page', () => {
    const doc = parse('query($n: Int) { customers(first: $n) { totalCount } }');
    expect(measure(doc).complexity).toBe(1 + 500);
  });

  it('rejects too deep and too complex documents with clear codes', () => {
    const deep = parse(`{ ${'a { '.repeat(MAX_DEPTH + 1)}b${' }'.repeat(MAX_DEPTH + 1)} }`);
    expect(queryLimitErrors(deep).map((e) => e.extensions.code)).toEqual(['QUERY_TOO_DEEP']);
    const wide = parse('{ a(first: 500) { b(first: 500) { c } } }');
    expect(measure(wide).complexity).toBeGreaterThan(MAX_COMPLEXITY);
    expect(queryLimitErrors(wide).map((e) => e.extensions.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(queryLimitErrors(parse('{ viewer { name } }'))).toEqual([]);
  });

  it('survives fragment cycles (validation reports them)', () => {
    const doc = parse('{ a { ...F } } fragment F on A { b { ...F } }');
    expect(measure(doc).depth).toBe(2);
  });
});
