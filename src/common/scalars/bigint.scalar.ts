import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badScalarInput } from './scalar-input-error';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Parses a client's BigInt: an integer JSON number, or a string of digits; 64-bit signed. */
export function parseBigInt(value: unknown): bigint {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw badScalarInput(
        `BigInt must be an integer; send values beyond 2^53-1 as strings, got ${value}`,
      );
    }
    n = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) {
    n = BigInt(value);
  } else if (typeof value === 'bigint') {
    n = value;
  } else {
    throw badScalarInput(
      `BigInt must be an integer number or a string of digits, got ${JSON.stringify(value)}`,
    );
  }
  if (n > INT64_MAX || n < INT64_MIN) throw badScalarInput('BigInt is out of the 64-bit range');
  return n;
}

/** A 64-bit count as JSON: a number while exact (|n| <= 2^53-1), else a decimal string. */
export function serializeBigInt(value: unknown): number | string {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value);
  else throw new GraphQLError(`BigInt cannot represent ${String(value)}`);
  return n <= MAX_SAFE && n >= MIN_SAFE ? Number(n) : n.toString();
}

/**
 * The contract's `BigInt`: exact 64-bit counts (octet counters, data limits). Resolvers
 * return bigint, numbers or the decimal strings mysql2 gives for BIGINT columns; arguments
 * arrive as bigint. Use it as `@Field(() => GraphQLBigInt)`.
 */
export const GraphQLBigInt = new GraphQLScalarType<bigint, number | string>({
  name: 'BigInt',
  description:
    'A 64-bit count, exact: a JSON number when |n| <= 2^53-1, else a string; accepts both.',
  serialize: serializeBigInt,
  parseValue: parseBigInt,
  parseLiteral(ast: ValueNode): bigint {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.value);
    throw badScalarInput('BigInt must be an integer literal or a string of digits');
  },
});
