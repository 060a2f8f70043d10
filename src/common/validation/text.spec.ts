import { BadUserInputError } from '../errors/app-error';
import { optionalText, searchTerm } from './text';

describe('text validation', () => {
  it('keeps well-formed Unicode as sent: emoji, ZWJ sequences, combining marks, quotes', () => {
    for (const text of ['😀🚀', 'fam👩‍👩‍👧', 'jose\u0301', `O'Brien "x" \\ %_`]) {
      expect(optionalText('name', text, 128)).toBe(text);
    }
  });

  it('refuses a lone surrogate, which no database can store as sent', () => {
    for (const text of ['abc\ud800', '\udc00abc', 'a\ud83dxyz']) {
      expect(() => optionalText('input.name', text, 128)).toThrow(BadUserInputError);
      expect(() => searchTerm('search', text, 100)).toThrow(/valid Unicode/);
    }
  });

  it('refuses control characters and bidi overrides in stored text', () => {
    for (const text of ['a\u0000b', 'abc\u202Etxt', 'a\u2066b', 'tab\there']) {
      expect(() => optionalText('input.name', text, 128)).toThrow(/control characters/);
    }
  });

  it('trims a search term, and limits it', () => {
    expect(searchTerm('search', '  ali ', 100)).toBe('ali');
    expect(searchTerm('search', '   ', 100)).toBeNull();
    expect(() => searchTerm('search', 'x'.repeat(101), 100)).toThrow('at most 100 characters');
  });
});
