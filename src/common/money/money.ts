import { BadUserInputError } from '../errors/app-error';

/** CURRENCY_DECIMALS may be 0 to this. */
export const MAX_CURRENCY_DECIMALS = 4;

/** An amount has at most this many digits before the point: under a trillion. */
export const MAX_WHOLE_DIGITS = 12;

/**
 * A JSON number carries any decimal of at most 15 significant digits exactly (IEEE 754
 * doubles, DBL_DIG): its shortest text is then the text the client wrote. Beyond that the
 * number the client meant may already be lost, so it has to come as a string.
 */
const JSON_NUMBER_DIGITS = 15;

/** Longer than any valid amount (sign, 12 digits, point, decimals, leading zeros to spare). */
const MAX_TEXT_LENGTH = 40;

/** What the Money scalar hands over: the text as sent, or a JSON number. */
export type MoneyInput = string | number;

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** The amount in minor units (cents for 2 decimals), exactly; never through a JS float. */
export function parseMoney(field: string, value: MoneyInput, decimals: number): bigint {
  const text = typeof value === 'number' ? numberText(field, value) : value;
  if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) {
    throw new BadUserInputError(field, `${field} must be an amount such as "12.50"`);
  }
  const match = DECIMAL.exec(text);
  if (!match) {
    throw new BadUserInputError(
      field,
      `${field} must be a decimal amount such as "12.50" (digits, an optional "-" and "."; no exponent)`,
    );
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > decimals) {
    throw new BadUserInputError(
      field,
      decimals === 0
        ? `${field} must be a whole amount: the currency has no decimals`
        : `${field} has more than ${decimals} decimal places`,
    );
  }
  if (whole.replace(/^0+/, '').length > MAX_WHOLE_DIGITS) {
    throw new BadUserInputError(
      field,
      `${field} is too large: at most ${MAX_WHOLE_DIGITS} digits before the decimal point`,
    );
  }
  const minor = BigInt(whole + fraction.padEnd(decimals, '0'));
  return sign === '-' ? -minor : minor;
}

/** A JSON number as the decimal text it was written as, when that is certain. */
function numberText(field: string, value: number): string {
  const text = String(value);
  if (!Number.isFinite(value) || /e/i.test(text)) {
    throw new BadUserInputError(
      field,
      `${field} must be a decimal amount such as "12.50" (send it as a string)`,
    );
  }
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  if (digits.length > JSON_NUMBER_DIGITS) {
    throw new BadUserInputError(
      field,
      `${field} has more digits than a JSON number carries exactly: send it as a string, e.g. "12.50"`,
    );
  }
  return text;
}

/** Minor units (a bigint, or the integer a database column gives) as "1234.50" / "-3.50". */
export function formatMoney(minor: bigint | string | number, decimals: number): string {
  const n = toMinor(minor);
  const sign = n < 0n ? '-' : '';
  const digits = (n < 0n ? -n : n).toString().padStart(decimals + 1, '0');
  if (decimals === 0) return sign + digits;
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** An integer amount of minor units as stored (BIGINT: a string on MySQL, a number or string on SQLite). */
export function toMinor(value: bigint | string | number): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new Error(`Not an exact amount of minor units: ${value}`);
    return BigInt(value);
  }
  if (!/^-?\d+$/.test(value)) throw new Error(`Not an amount of minor units: "${value}"`);
  return BigInt(value);
}
