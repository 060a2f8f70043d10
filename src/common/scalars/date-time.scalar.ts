import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badScalarInput } from './scalar-input-error';

/** 2026-11-20T08:00:00Z, 2026-11-20T11:00:00.5+03:00, or a date alone (2026-11-20). */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/;

const EXPECTED =
  'DateTime must be an ISO-8601 date-time with an offset, such as "2026-11-20T08:00:00Z" or "2026-11-20T11:00:00+03:00", or a date alone (midnight UTC)';

/**
 * Parses a client's DateTime. Nest's own scalar took anything `new Date()` takes: "yesterday"
 * or "2026-13-01T00:00:00Z" became an Invalid Date that filtered every row out (MariaDB) or
 * none (SQLite), a number was read as milliseconds, and a time without an offset in the
 * server's time zone. Those are refused with BAD_USER_INPUT, and so is a day or time that
 * does not exist (February 30th, 24:00).
 */
export function parseDateTime(value: unknown): Date {
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!match) {
    throw badScalarInput(
      `${EXPECTED}, got ${typeof value === 'string' ? 'another text' : typeof value}`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((x) => Number(x ?? 0));
  const date = new Date(Date.UTC(year, month - 1, day));
  date.setUTCFullYear(year); // Date.UTC takes years 0-99 for 1900-1999
  const real =
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  const parsed = new Date(match[4] === undefined ? `${match[0]}T00:00:00Z` : match[0]);
  if (!real || Number.isNaN(parsed.getTime())) {
    throw badScalarInput(`${EXPECTED}: there is no such day or time`);
  }
  return parsed;
}

/** A Date as the API shows it: ISO-8601 at UTC, as Nest's isoDate scalar did. */
export function serializeDateTime(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : null;
}

/**
 * The contract's `DateTime` (ISO-8601 with offset), for every `Date` field and argument
 * (buildSchemaOptions.scalarsMap): output as before, input checked (parseDateTime).
 */
export const GraphQLDateTime = new GraphQLScalarType<Date, string | null>({
  name: 'DateTime',
  description:
    'An instant as ISO-8601: output at UTC, such as 2026-11-20T08:00:00.000Z; input with an offset (Z or ±hh:mm), or a date alone for midnight UTC.',
  serialize: serializeDateTime,
  parseValue: parseDateTime,
  parseLiteral(ast: ValueNode): Date {
    if (ast.kind === Kind.STRING) return parseDateTime(ast.value);
    throw badScalarInput(`${EXPECTED}, as a string`);
  },
});
