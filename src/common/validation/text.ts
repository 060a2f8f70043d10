import { BadUserInputError } from '../errors/app-error';

// C0 and C1 controls, DEL, and the bidi overrides/isolates that can disguise text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Half of a UTF-16 surrogate pair: no character, and no database can store it as sent. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Refuses text that is not valid Unicode (a lone surrogate), naming the field. */
export function checkWellFormed(field: string, value: string, label = field): void {
  if (LONE_SURROGATE.test(value)) {
    throw new BadUserInputError(
      field,
      `${label} must be valid Unicode text: it has half of a surrogate pair`,
    );
  }
}

/**
 * A search term: trimmed, null when empty, at most `max` characters of valid Unicode.
 * Anything else is searched for as it is (metacharacters included): see likeLiteral.
 */
export function searchTerm(
  field: string,
  value: string | null | undefined,
  max: number,
): string | null {
  const term = value?.trim();
  if (!term) return null;
  if ([...term].length > max) {
    throw new BadUserInputError(field, `${field} must be at most ${max} characters`);
  }
  checkWellFormed(field, term);
  return term;
}

/**
 * A required single-line text: trimmed of nothing (what is sent is what is stored), not
 * empty, at most `max` characters, no control characters. Names the field on refusal.
 */
export function requireText(field: string, value: string, max: number, label = field): string {
  if (value.trim() === '') throw new BadUserInputError(field, `${label} must not be empty`);
  return optionalText(field, value, max, label) as string;
}

/** An optional single-line text: null/empty clears it; otherwise as requireText. */
export function optionalText(
  field: string,
  value: string | null | undefined,
  max: number,
  label = field,
): string | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  if ([...value].length > max) {
    throw new BadUserInputError(field, `${label} must be at most ${max} characters`);
  }
  if (CONTROL.test(value)) {
    throw new BadUserInputError(field, `${label} must not contain control characters`);
  }
  checkWellFormed(field, value, label);
  return value;
}

/** A whole number within [min, max], naming the field on refusal. */
export function requireInt(
  field: string,
  value: number,
  min: number,
  max: number,
  what: string,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BadUserInputError(field, `${field} must be ${what}`);
  }
  return value;
}
