import { BadUserInputError } from '../errors/app-error';

/**
 * An id argument (`id`, `nasId`, `profileId`, `filter.targetId`…) as the API takes it: the
 * decimal digits of a positive integer up to 2^53 - 1 (radgraph's ids are AUTO_INCREMENT
 * integers, read as numbers). Anything else ("", "abc", "-1", "1.5", " 7", an id too large
 * for any row) is BAD_USER_INPUT naming `field` (reason INVALID_ID), never NOT_FOUND: that
 * stays for a well-formed id with no row. The message does not repeat the value.
 */
export function parseId(field: string, value: string | number, label = field): number {
  const text = typeof value === 'number' ? String(value) : value;
  const id = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new BadUserInputError(
      field,
      `${label} must be an id: a positive integer (digits only, at most ${Number.MAX_SAFE_INTEGER})`,
      'INVALID_ID',
    );
  }
  return id;
}

/** As parseId, for an optional id: null or undefined is none (an empty string is not). */
export function optionalId(
  field: string,
  value: string | number | null | undefined,
  label = field,
): number | null {
  return value === null || value === undefined ? null : parseId(field, value, label);
}
