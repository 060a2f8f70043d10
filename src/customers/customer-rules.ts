import { randomInt } from 'node:crypto';
import { BadUserInputError } from '../common/errors/app-error';
import { RLM_SQL_SAFE_PUNCTUATION, rlmSqlUnsafeChar } from '../common/validation/rlm-sql';
import { optionalText, requireText } from '../common/validation/text';

export enum CustomerStatus {
  ONLINE = 'ONLINE',
  OFFLINE = 'OFFLINE',
  EXPIRED = 'EXPIRED',
  SUSPENDED = 'SUSPENDED',
}

/** The contract's order: SUSPENDED > EXPIRED > ONLINE > OFFLINE. */
export function customerStatus(
  c: { suspended: boolean; expiresAt: Date | null },
  online: boolean,
  now: Date = new Date(),
): CustomerStatus {
  if (c.suspended) return CustomerStatus.SUSPENDED;
  if (c.expiresAt !== null && c.expiresAt.getTime() <= now.getTime()) return CustomerStatus.EXPIRED;
  return online ? CustomerStatus.ONLINE : CustomerStatus.OFFLINE;
}

/**
 * A PPPoE login: 1-64 characters (radcheck.username), no whitespace or control characters,
 * of ASCII only letters, digits and @ . - _ : / (what FreeRADIUS's SQL module keeps as is:
 * rlmSqlUnsafeChar), and a shape FreeRADIUS's filter_username lets through
 * (filterUsernameProblem).
 */
export function checkUsername(field: string, value: string): string {
  const username = requireText(field, value, 64, 'Username');
  if (/\s/u.test(username))
    throw new BadUserInputError(field, 'Username must not contain whitespace');
  const unsafe = rlmSqlUnsafeChar(username);
  if (unsafe !== null) {
    throw new BadUserInputError(
      field,
      `Username must not contain "${unsafe}": besides letters and digits, only ${RLM_SQL_SAFE_PUNCTUATION} (FreeRADIUS's SQL module rewrites other characters, so the customer could not log in)`,
    );
  }
  const problem = filterUsernameProblem(username);
  if (problem !== null) {
    throw new BadUserInputError(
      field,
      `Username ${problem}: FreeRADIUS's filter_username policy (the first step of radius-config's authorize) rejects such a login before it reads radcheck, so the customer could not log in`,
    );
  }
  return username;
}

/**
 * What FreeRADIUS 3.2's stock filter_username policy (policy.d/filter) rejects in a User-Name,
 * besides whitespace, or null: two @, "..", an @ with no "x.y" after it, a final dot, and a dot
 * right after the @ ("user@isp", "jane.", "a..b").
 */
export function filterUsernameProblem(username: string): string | null {
  if (/@[^@]*@/u.test(username)) return 'must not contain more than one "@"';
  if (username.includes('..')) return 'must not contain ".."';
  if (username.includes('@') && !/@(.+)\.(.+)$/u.test(username)) {
    return 'must have a domain with a dot after its "@" (user@isp.co.ke, not user@isp)';
  }
  if (username.endsWith('.')) return 'must not end with "."';
  if (username.includes('@.')) return 'must not have "." right after its "@"';
  return null;
}

/**
 * 1-128 characters, no control characters; stored only as radcheck Cleartext-Password. Not
 * wrapped in one kind of quote (" ' `) from end to end: FreeRADIUS's SQL module reads such a
 * radcheck value as a quoted string and takes the quotes off, so the customer's password
 * "abc" would be checked as abc, and the one they type rejected.
 */
export function checkPassword(field: string, value: string): string {
  if (value.length === 0) throw new BadUserInputError(field, 'Password must not be empty');
  const password = requireText(field, value, 128, 'Password');
  if (/^(["'`])(?:.*\1)?$/su.test(password)) {
    throw new BadUserInputError(
      field,
      `Password must not start and end with the same quote character (" ' or \`): FreeRADIUS's SQL module takes such quotes off the stored password, so the customer could not log in with it`,
    );
  }
  return password;
}

/** A phone number as people write it; its digits (5-20) are what search matches. */
export function checkPhone(field: string, value: string | null | undefined): string | null {
  const phone = optionalText(field, value, 32, 'Phone');
  if (phone === null) return null;
  if (!/^[0-9+\-(). ]+$/.test(phone)) {
    throw new BadUserInputError(field, 'Phone may contain only digits, spaces and + - ( ) .');
  }
  const digits = phoneDigits(phone);
  if (digits.length < 5 || digits.length > 20) {
    throw new BadUserInputError(field, 'Phone must have 5 to 20 digits');
  }
  return phone;
}

export const checkName = (field: string, value: string | null | undefined) =>
  optionalText(field, value, 128, 'Name');

/** A given account number: 1-32 letters, digits, '-', '_' or '/'. */
export function checkAccountNo(field: string, value: string): string {
  const accountNo = requireText(field, value, 32, 'Account number');
  if (!/^[A-Za-z0-9\-_/]+$/.test(accountNo)) {
    throw new BadUserInputError(
      field,
      "Account number may contain only letters, digits, '-', '_' and '/'",
    );
  }
  return accountNo;
}

export function phoneDigits(phone: string | null): string {
  return phone === null ? '' : phone.replace(/\D/g, '');
}

/** Crockford's base32 without I, L, O, U: no look-alikes when read over the phone. */
const ACCOUNT_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new account number: "RG-" and 8 random characters (40 bits), e.g. RG-7KQ2-M9XD. Short,
 * readable, and not guessable from the row id or from other account numbers.
 */
export function generateAccountNo(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ACCOUNT_ALPHABET[randomInt(ACCOUNT_ALPHABET.length)];
  return `RG-${s.slice(0, 4)}-${s.slice(4)}`;
}

/**
 * Letters and digits without look-alikes (0 O o, 1 l I): a password a customer types into a
 * router's PPPoE settings after reading it off a screen or a phone message.
 */
const PASSWORD_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
export const GENERATED_PASSWORD_LENGTH = 12;

/**
 * A new PPPoE password from Node's CSPRNG (crypto.randomInt, uniform over the alphabet: no
 * modulo bias): 12 characters of 55, about 69 bits.
 */
export function generatePassword(): string {
  let s = '';
  for (let i = 0; i < GENERATED_PASSWORD_LENGTH; i++) {
    s += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  }
  return s;
}

type Searchable = { accountNo: string; username: string; phone: string | null };

const searchFields = (c: Searchable) => [
  c.accountNo.toLowerCase(),
  c.username.toLowerCase(),
  phoneDigits(c.phone),
];

export function searchText(c: Searchable): string {
  return searchFields(c).join('\n');
}

/** How long a search key is at most, and at least: see CustomerSearchKey. */
export const SEARCH_KEY_LENGTH = 16;
export const SEARCH_KEY_MIN = 3;

/** Every suffix of each field, cut to SEARCH_KEY_LENGTH, of at least SEARCH_KEY_MIN characters. */
export function searchKeys(c: Searchable): string[] {
  const keys = new Set<string>();
  for (const field of searchFields(c)) {
    const chars = [...field];
    for (let i = 0; i + SEARCH_KEY_MIN <= chars.length; i++) {
      keys.add(chars.slice(i, i + SEARCH_KEY_LENGTH).join(''));
    }
  }
  return [...keys];
}

/** What a search term looks for: the term itself, lower-cased, and for a phone number its digits. */
export function searchTerms(term: string): string[] {
  const terms = new Set([term.toLowerCase()]);
  if (/^[0-9+\-(). ]+$/.test(term)) {
    const digits = phoneDigits(term);
    if (digits.length > 0) terms.add(digits);
  }
  return [...terms];
}

/**
 * The Expiration check item for rlm_expiration, as Unix time in seconds ("1795305599").
 * FreeRADIUS 3.2 reads a date written as "Nov 21 2026 23:59:59" with mktime(), in its own
 * local time zone, so a server not at UTC would cut customers off hours early or late; a
 * number it takes as Unix time, the same instant in every time zone.
 */
export function expirationValue(at: Date): string {
  return String(Math.floor(at.getTime() / 1000));
}

export const DAY_MS = 86_400_000;
