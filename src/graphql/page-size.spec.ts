import { parse } from 'graphql';
import { pageSizeErrors } from './page-size';

describe('pageSizeErrors', () => {
  const codes = (query: string, variables?: Record<string, unknown>) =>
    pageSizeErrors(parse(query), variables).map((e) => [e.extensions.code, e.extensions.field]);

  it('checks first and last, inline, as variables and as variable defaults', () => {
    expect(codes('{ a(first: 500) { b(last: 0) } }')).toEqual([]);
    expect(codes('{ a(first: 501) }')).toEqual([['BAD_USER_INPUT', 'first']]);
    expect(codes('{ a { b(last: 100000) } }')).toEqual([['BAD_USER_INPUT', 'last']]);
    expect(codes('query($n: Int) { a(first: $n) }', { n: 100000 })).toEqual([
      ['BAD_USER_INPUT', 'first'],
    ]);
    expect(codes('query($n: Int = 9999) { a(first: $n) }')).toEqual([['BAD_USER_INPUT', 'first']]);
    expect(codes('query($n: Int = 9999) { a(first: $n) }', { n: 5 })).toEqual([]);
    expect(codes('{ a(first: -1) b(first: 1000) }')).toEqual([['BAD_USER_INPUT', 'first']]);
  });

  it('says why: negative, too large, or not an integer', () => {
    const reasons = (query: string, variables?: Record<string, unknown>) =>
      pageSizeErrors(parse(query), variables).map((e) => e.extensions.reason);
    expect(reasons('{ a(first: -1) }')).toEqual(['PAGE_SIZE_NEGATIVE']);
    expect(reasons('{ a(last: 501) }')).toEqual(['PAGE_TOO_LARGE']);
    expect(reasons('query($n: Int) { a(first: $n) }', { n: 1.5 })).toEqual(['INVALID_PAGE_SIZE']);
    expect(reasons('{ a(first: 0) b(last: 500) }')).toEqual([]);
  });
});
