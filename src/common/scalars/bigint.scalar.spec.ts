import { Kind } from 'graphql';
import { GraphQLBigInt, parseBigInt, serializeBigInt } from './bigint.scalar';

describe('BigInt scalar', () => {
  it('serializes exact values as numbers up to 2^53-1 and as strings beyond', () => {
    expect(serializeBigInt('9007199254740991')).toBe(9007199254740991);
    expect(serializeBigInt('9007199254740992')).toBe('9007199254740992');
    expect(serializeBigInt((1n << 63n) - 1n)).toBe('9223372036854775807');
    expect(serializeBigInt(42)).toBe(42);
  });

  it('refuses to serialize what is not an exact integer', () => {
    expect(() => serializeBigInt(1.5)).toThrow();
    expect(() => serializeBigInt('12abc')).toThrow();
  });

  it('parses numbers and digit strings, exactly', () => {
    expect(parseBigInt(5)).toBe(5n);
    expect(parseBigInt('18446744073709551')).toBe(18446744073709551n);
    expect(parseBigInt('-3')).toBe(-3n);
  });

  it.each([[1.5], [2 ** 60], ['1e3'], [''], [null], [{}], ['9223372036854775808']])(
    'refuses %p with BAD_USER_INPUT',
    (value) => {
      expect(() => parseBigInt(value)).toThrow(
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      );
    },
  );

  it('parses literals', () => {
    const scalar = GraphQLBigInt;
    expect(scalar.parseLiteral({ kind: Kind.INT, value: '123' })).toBe(123n);
    expect(scalar.parseLiteral({ kind: Kind.STRING, value: '9007199254740993' })).toBe(
      9007199254740993n,
    );
    expect(() => scalar.parseLiteral({ kind: Kind.FLOAT, value: '1.5' })).toThrow();
  });
});
