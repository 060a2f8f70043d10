import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badScalarInput } from './scalar-input-error';
import type { MoneyInput } from '../money/money';

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** What the API shows: the decimal strings CurrencyService.format makes. */
export function serializeMoney(value: unknown): string {
  if (typeof value === 'string' && DECIMAL.test(value)) return value;
  throw new GraphQLError(`Money cannot represent ${String(value)}`);
}

/**
 * What a client sends, handed over as it came: a string, or a JSON number. The amount is
 * checked where the currency's decimals are known (CurrencyService.parse), so that a
 * refusal names the argument or input field.
 */
export function parseMoneyValue(value: unknown): MoneyInput {
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
    return value;
  }
  throw badScalarInput('Money must be a decimal string such as "12.50", or a number');
}

/**
 * The API's `Money`: an exact amount as a decimal string with the currency's decimals
 * (CURRENCY_DECIMALS). A literal is taken as its text, so `1.10` and `1e3` reach the check
 * exactly as written.
 */
export const GraphQLMoney = new GraphQLScalarType<MoneyInput, string>({
  name: 'Money',
  description:
    'An amount of money, exact: a decimal string with the currency\'s decimals (CURRENCY_DECIMALS, 2 by default), e.g. "50.00" or "-3.50". Accepts a decimal string, or a number of at most 15 significant digits; no exponent, no more decimals than the currency has.',
  serialize: serializeMoney,
  parseValue: parseMoneyValue,
  parseLiteral(ast: ValueNode): MoneyInput {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) {
      return ast.value;
    }
    throw badScalarInput('Money must be a decimal string such as "12.50", or a number');
  },
});
