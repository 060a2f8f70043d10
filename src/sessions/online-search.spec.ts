import { macPrefixes } from './mac-prefixes';
import { searchTerm } from './online-search';

describe('online session search', () => {
  it('writes the start of a MAC address with either separator, none, or in groups of four', () => {
    expect(macPrefixes('5c:e8:83')).toEqual(['5c:e8:83', '5c-e8-83', '5ce883', '5ce8.83']);
    expect(macPrefixes('5C-E8-8')).toEqual(['5C-E8-8', '5C:E8:8', '5CE88', '5CE8.8']);
    expect(macPrefixes('5ce883')).toEqual(['5ce883', '5c:e8:83', '5c-e8-83', '5ce8.83']);
    expect(macPrefixes('5c:')).toEqual(['5c:', '5c-', '5c']);
    expect(macPrefixes('aa:bb:cc:dd:ee:ff')).toEqual([
      'aa:bb:cc:dd:ee:ff',
      'aa-bb-cc-dd-ee-ff',
      'aabbccddeeff',
      'aabb.ccdd.eeff',
    ]);
    expect(macPrefixes('10')).toEqual(['10']);
  });

  it("reads Cisco's notation (aabb.ccdd.eeff) and writes it the other ways", () => {
    expect(macPrefixes('5ce8.8312')).toEqual([
      '5ce8.8312',
      '5c:e8:83:12',
      '5c-e8-83-12',
      '5ce88312',
    ]);
    expect(macPrefixes('5CE8.83')).toEqual(['5CE8.83', '5C:E8:83', '5C-E8-83', '5CE883']);
    expect(macPrefixes('aabb.ccdd.eeff')).toEqual([
      'aabb.ccdd.eeff',
      'aa:bb:cc:dd:ee:ff',
      'aa-bb-cc-dd-ee-ff',
      'aabbccddeeff',
    ]);
  });

  it('takes any other term as it is', () => {
    for (const term of [
      'alice',
      '10.0.0.',
      'aa:bb-cc',
      'aa:bbb',
      'aabbccddeeff0',
      'aa::bb',
      'aab.ccdd',
      'aabb.ccdd.eeff.0011',
      '10.0.0.1',
    ]) {
      expect(macPrefixes(term)).toEqual([term]);
    }
  });

  it('trims the term, and refuses one longer than 100 characters', () => {
    expect(searchTerm('  ali ')).toBe('ali');
    expect(searchTerm('   ')).toBeNull();
    expect(searchTerm(null)).toBeNull();
    expect(() => searchTerm('x'.repeat(101))).toThrow('at most 100 characters');
  });
});
