import { BadUserInputError } from '../common/errors/app-error';
import { RLM_SQL_SAFE_PUNCTUATION, rlmSqlUnsafeChar } from '../common/validation/rlm-sql';
import { requireInt, requireText } from '../common/validation/text';

export const MAX_RATE_KBPS = 100_000_000; // 100 Gbit/s
export const MAX_VALIDITY_DAYS = 3650;
export const DEFAULT_INTERIM_INTERVAL = 300;
export const MIN_INTERIM = 60;
export const MAX_INTERIM = 86_400;

/** MikroTik's rx/tx: rx is what the router receives from the customer, so upload first. */
export function rateLimit(uploadRateKbps: number, downloadRateKbps: number): string {
  return `${uploadRateKbps}k/${downloadRateKbps}k`;
}

/** The radgroupreply rows that make a profile's group: what FreeRADIUS replies with. */
export function groupReplyRows(p: {
  uploadRateKbps: number;
  downloadRateKbps: number;
  interimIntervalSeconds: number;
}): Array<{ attribute: string; op: string; value: string }> {
  return [
    {
      attribute: 'Mikrotik-Rate-Limit',
      op: ':=',
      value: rateLimit(p.uploadRateKbps, p.downloadRateKbps),
    },
    { attribute: 'Acct-Interim-Interval', op: ':=', value: String(p.interimIntervalSeconds) },
  ];
}

/**
 * A profile's name, which is also its FreeRADIUS group name: 1-64 characters
 * (radusergroup.groupname), no control characters, and of ASCII only letters, digits, space and
 * @ . - _ : / (rlmSqlUnsafeChar). FreeRADIUS's SQL module rewrites any other ASCII character in
 * `'%{SQL-Group}'` as "=XX", so its radgroupreply lookup would match nothing and the profile's
 * customers would log in without its speed limit.
 */
export function checkName(field: string, value: string): string {
  const name = requireText(field, value, 64, 'Profile name');
  const unsafe = rlmSqlUnsafeChar(name);
  if (unsafe !== null) {
    throw new BadUserInputError(
      field,
      `Profile name must not contain "${unsafe}": besides letters, digits and spaces, only ${RLM_SQL_SAFE_PUNCTUATION} (the name is the FreeRADIUS group name, and FreeRADIUS's SQL module rewrites other characters, so the profile's customers would get no speed limit at login)`,
    );
  }
  return name;
}

/**
 * Why FreeRADIUS cannot match the group of a profile named `name` (one made before checkName
 * refused such names), or null when it can.
 */
export function groupNameProblem(name: string): string | null {
  const unsafe = rlmSqlUnsafeChar(name);
  if (unsafe === null) return null;
  return `FreeRADIUS cannot match this profile's group: its SQL module rewrites "${unsafe}" in the name, so the profile's customers get none of its replies (no speed limit) at login. Rename the profile with only letters, digits, spaces and ${RLM_SQL_SAFE_PUNCTUATION}.`;
}

export const checkRate = (field: string, v: number) =>
  requireInt(
    field,
    v,
    1,
    MAX_RATE_KBPS,
    `a positive whole number of kbit/s (at most ${MAX_RATE_KBPS})`,
  );
export const checkValidity = (field: string, v: number) =>
  requireInt(
    field,
    v,
    1,
    MAX_VALIDITY_DAYS,
    `a whole number of days from 1 to ${MAX_VALIDITY_DAYS}`,
  );
export const checkInterim = (field: string, v: number) =>
  requireInt(
    field,
    v,
    MIN_INTERIM,
    MAX_INTERIM,
    `a whole number of seconds from ${MIN_INTERIM} to ${MAX_INTERIM}`,
  );

/** Both FUP speeds or neither; each a rate like the plan's. */
export function checkFup(
  up: number | null | undefined,
  down: number | null | undefined,
  prefix = 'input',
): { fupUploadRateKbps: number | null; fupDownloadRateKbps: number | null } {
  if ((up ?? null) === null && (down ?? null) === null) {
    return { fupUploadRateKbps: null, fupDownloadRateKbps: null };
  }
  if ((up ?? null) === null || (down ?? null) === null) {
    const missing = (up ?? null) === null ? 'fupUploadRateKbps' : 'fupDownloadRateKbps';
    throw new BadUserInputError(
      `${prefix}.${missing}`,
      `Set both FUP speeds or neither: ${prefix}.${missing} is missing`,
    );
  }
  return {
    fupUploadRateKbps: checkRate(`${prefix}.fupUploadRateKbps`, up!),
    fupDownloadRateKbps: checkRate(`${prefix}.fupDownloadRateKbps`, down!),
  };
}

/** A price in minor units: 0 (free) or more. */
export function checkPrice(field: string, minor: bigint): string {
  if (minor < 0n) throw new BadUserInputError(field, `${field} must not be negative`);
  return minor.toString();
}

/**
 * A monthly data limit in bytes: null for unlimited, else at least 1. A limit of 0 is refused:
 * it is "no limit" to MikroTik and to many billing tools, but FreeRADIUS's cap check
 * (radius-config) finds every customer of the plan over it and rejects each login.
 */
export function checkDataLimit(field: string, v: bigint | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (v < 0n)
    throw new BadUserInputError(field, `${field} must not be negative (null = unlimited)`);
  if (v === 0n) {
    throw new BadUserInputError(
      field,
      `${field} must be at least 1 byte: for no limit, send null (a limit of 0 would reject every login of the plan's customers)`,
    );
  }
  return v.toString();
}
