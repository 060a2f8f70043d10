import { BadUserInputError } from '../errors/app-error';

// C0 and C1 controls, DEL, and the bidi overrides/isolates that can disguise text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

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
