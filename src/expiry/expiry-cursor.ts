import { BadUserInputError } from '../common/errors/app-error';

/** Where a page of `expiringCustomers` ends: its last customer's expiresAt and id. */
export interface ExpiryCursor {
  expiresAt: Date;
  id: number;
}

/** Opaque: base64url of "exp:<expiresAt ms>:<id>" (the list is ordered by both). */
export function encodeExpiryCursor(c: ExpiryCursor): string {
  return Buffer.from(`exp:${c.expiresAt.getTime()}:${c.id}`, 'utf8').toString('base64url');
}

export function decodeExpiryCursor(
  cursor: string | null | undefined,
  field = 'after',
): ExpiryCursor | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const match = /^exp:(\d{1,15}):(\d{1,15})$/.exec(text);
  const id = match ? Number(match[2]) : NaN;
  const at = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(id) || !Number.isSafeInteger(at) || at > 8.64e15) {
    throw new BadUserInputError(field, `${field} is not a cursor of this list`);
  }
  return { expiresAt: new Date(at), id };
}
