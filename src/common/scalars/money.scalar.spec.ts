import { Kind } from 'graphql';
import { GraphQLMoney, parseMoneyValue, serializeMoney } from './money.scalar';

describe('Money scalar', () => {
  it('serializes decimal strings as they are', () => {
    expect(serializeMoney('50.00')).toBe('50.00');
    expect(serializeMoney('-3.50')).toBe('-3.50');
    expect(serializeMoney('12')).toBe('12');
  });

  it('never serializes a float or anything else', () => {
    expect(() => serializeMoney(1.5)).toThrow();
    expect(() => serializeMoney('1e3')).toThrow();
    expect(() => serializeMoney(null)).toThrow();
  });

  it('hands strings and numbers over as they came, for the check that names the field', () => {
    expect(parseMoneyValue('1.001')).toBe('1.001');
    expect(parseMoneyValue(12.5)).toBe(12.5);
  });

  it.each([[true], [null], [{}], [[1]], [Infinity], [NaN]])(
    'refuses %p with BAD_USER_INPUT',
    (value) => {
      expect(() => parseMoneyValue(value)).toThrow(
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      );
    },
  );

  it('takes a literal by its text, exactly as written', () => {
    expect(GraphQLMoney.parseLiteral({ kind: Kind.FLOAT, value: '1e3' })).toBe('1e3');
    expect(GraphQLMoney.parseLiteral({ kind: Kind.FLOAT, value: '0.10' })).toBe('0.10');
    expect(GraphQLMoney.parseLiteral({ kind: Kind.INT, value: '12345678901234567890' })).toBe(
      '12345678901234567890',
    );
    expect(GraphQLMoney.parseLiteral({ kind: Kind.STRING, value: '50.00' })).toBe('50.00');
    expect(() => GraphQLMoney.parseLiteral({ kind: Kind.BOOLEAN, value: true })).toThrow();
  });
});
