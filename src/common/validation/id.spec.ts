import { BadUserInputError } from '../errors/app-error';
import { optionalId, parseId } from './id';

describe('parseId', () => {
  it('takes the digits of a positive safe integer', () => {
    expect(parseId('id', '1')).toBe(1);
    expect(parseId('id', '42')).toBe(42);
    expect(parseId('id', 7)).toBe(7);
    expect(parseId('id', '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    '',
    ' ',
    'abc',
    '-1',
    '0',
    '1.5',
    '1e3',
    '0x10',
    ' 7',
    '7 ',
    '+7',
    '9007199254740992',
    '99999999999999999999',
    '１２',
  ])('refuses %j with BAD_USER_INPUT naming the field', (value) => {
    let thrown: unknown;
    try {
      parseId('nasId', value);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BadUserInputError);
    expect(thrown).toMatchObject({ field: 'nasId', reason: 'INVALID_ID' });
    expect((thrown as Error).message).toMatch(/^nasId must be an id: a positive integer/);
  });

  it('refuses numbers that are no id', () => {
    for (const n of [0, -1, 1.5, NaN, 2 ** 53]) expect(() => parseId('id', n)).toThrow();
  });

  it('optionalId: null and undefined are none, an empty string is refused', () => {
    expect(optionalId('filter.targetId', null)).toBeNull();
    expect(optionalId('filter.targetId', undefined)).toBeNull();
    expect(optionalId('filter.targetId', '3')).toBe(3);
    expect(() => optionalId('filter.targetId', '')).toThrow(BadUserInputError);
  });
});
