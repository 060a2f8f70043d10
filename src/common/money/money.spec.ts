import { formatMoney, parseMoney, toMinor } from './money';

const badInput = (field: string) => expect.objectContaining({ code: 'BAD_USER_INPUT', field });

describe('parseMoney', () => {
  it.each([
    ['50', 2, 5000n],
    ['50.00', 2, 5000n],
    ['50.5', 2, 5050n],
    ['-3.50', 2, -350n],
    ['0', 2, 0n],
    ['-0', 2, 0n],
    ['0.01', 2, 1n],
    ['007.10', 2, 710n],
    ['1234567.89', 2, 123456789n],
    ['999999999999.99', 2, 99999999999999n],
    ['999999999999.9999', 4, 9999999999999999n],
    ['12', 0, 12n],
    ['1.234', 3, 1234n],
  ])('%p with %p decimals is %p minor units', (text, decimals, minor) => {
    expect(parseMoney('amount', text, decimals)).toBe(minor);
  });

  it('takes a JSON number by the text it was written as', () => {
    expect(parseMoney('amount', 1.1, 2)).toBe(110n);
    expect(parseMoney('amount', 0.1, 2)).toBe(10n);
    expect(parseMoney('amount', 1e3, 2)).toBe(100000n); // JSON 1e3 is the number 1000
    expect(parseMoney('amount', -3.5, 2)).toBe(-350n);
    expect(parseMoney('amount', 123456789012.35, 2)).toBe(12345678901235n);
  });

  it.each([
    ['too many decimals', '1.001', 2],
    ['too many decimals as a number', 1.001, 2],
    ['a float artefact', 0.1 + 0.2, 2],
    ['decimals in a currency without them', '1.5', 0],
    ['an exponent', '1e3', 2],
    ['an exponent (a literal as GraphQL gives its text)', '1E3', 2],
    ['an exponent a number prints', 1e21, 2],
    ['a tiny number', 1e-7, 2],
    ['letters', 'abc', 2],
    ['an empty string', '', 2],
    ['spaces', ' 1.00', 2],
    ['a comma', '1,00', 2],
    ['a plus sign', '+1', 2],
    ['a bare point', '1.', 2],
    ['no leading digit', '.5', 2],
    ['hex', '0x10', 2],
    ['Infinity', Infinity, 2],
    ['NaN', NaN, 2],
    ['13 digits before the point', '1000000000000', 2],
    ['a huge string', '9'.repeat(1000), 2],
    ['a number with more digits than a double keeps', 123456789012.3456, 4],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_label, value, decimals) => {
    expect(() => parseMoney('input.price', value, decimals)).toThrow(badInput('input.price'));
  });

  it('accepts leading zeros beyond the digit limit', () => {
    expect(parseMoney('amount', '0000000000000001.00', 2)).toBe(100n);
  });

  it('is exact where a float is not', () => {
    // 0.1 + 0.2 in minor units: no 0.30000000000000004
    expect(parseMoney('a', '0.1', 2) + parseMoney('a', '0.2', 2)).toBe(30n);
    expect(parseMoney('a', '92233720368.5477', 4)).toBe(922337203685477n);
  });
});

describe('formatMoney', () => {
  it.each([
    [5000n, 2, '50.00'],
    [-350n, 2, '-3.50'],
    [0n, 2, '0.00'],
    [1n, 2, '0.01'],
    [-1n, 2, '-0.01'],
    [123456789n, 2, '1234567.89'],
    [12n, 0, '12'],
    [-12n, 0, '-12'],
    [5n, 4, '0.0005'],
    ['9223372036854775807', 2, '92233720368547758.07'],
    ['-9223372036854775808', 2, '-92233720368547758.08'],
    [4200, 2, '42.00'],
  ])('%p with %p decimals is %p', (minor, decimals, text) => {
    expect(formatMoney(minor, decimals)).toBe(text);
  });

  it('round-trips with parseMoney', () => {
    for (const text of ['0.00', '1.00', '-3.50', '1234567.89', '999999999999.99']) {
      expect(formatMoney(parseMoney('a', text, 2), 2)).toBe(text);
    }
  });
});

describe('toMinor', () => {
  it('reads what the database gives', () => {
    expect(toMinor('123')).toBe(123n);
    expect(toMinor(-5)).toBe(-5n);
    expect(toMinor(7n)).toBe(7n);
  });

  it('refuses what is not an exact integer', () => {
    expect(() => toMinor(1.5)).toThrow();
    expect(() => toMinor('1.5')).toThrow();
    expect(() => toMinor(2 ** 60)).toThrow();
  });
});
