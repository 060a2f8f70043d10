import { hash } from 'node:crypto';

/**
 * The attributes of an Accounting-Request that FreeRADIUS's acct_unique policy hashes. The
 * text ones are their bytes, one character each (latin1: see bytesAttribute), which plain
 * ASCII text is as it is.
 */
export interface AcctUniqueInput {
  userName?: string;
  acctSessionId?: string;
  nasIpAddress?: string;
  nasIpv6Address?: string;
  nasIdentifier?: string;
  nasPortId?: string;
  nasPort?: number;
  /** Class, as bytes: FreeRADIUS's insert_acct_class puts "ai:<32 hex>" there. */
  classValue?: Buffer;
}

/** Whether `s` holds only the characters 1 to 127, which are the same bytes in latin1 and UTF-8. */
function ascii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

/**
 * The md5 of the bytes `s` holds (one character each), as FreeRADIUS's md5 xlat hashes its
 * expanded input: a C string, so it ends at the first NUL.
 */
function md5(s: string): string {
  if (ascii(s)) return hash('md5', s, 'hex');
  const nul = s.indexOf('\0');
  return hash('md5', Buffer.from(nul < 0 ? s : s.slice(0, nul), 'latin1'), 'hex');
}
const CLASS_PREFIX = 'ai:';
const CLASS_ID = /^ai:([0-9a-f]{32})/i;

/**
 * radacct.acctuniqueid as FreeRADIUS 3.2's `acct_unique` policy (policy.d/accounting) computes
 * it, so that a session written by FreeRADIUS and one written by radgraph's listener are the
 * same row:
 * - when Class starts with "ai:<32 hex>": md5("<hex>,<Acct-Session-Id>");
 * - else md5("User-Name,Acct-Session-Id,NAS-IPv6-Address or NAS-IP-Address,NAS-Identifier,
 *   NAS-Port-Id,NAS-Port"), a missing attribute being empty. The attributes' bytes are
 *   hashed, not their UTF-8 reading (which turns any invalid byte into U+FFFD), and up to the
 *   first NUL only. FreeRADIUS's preprocess adds
 *   NAS-IP-Address from the packet's source address when neither address is present, so the
 *   caller passes that in.
 */
export function acctUniqueId(a: AcctUniqueInput): string {
  const cls = a.classValue;
  if (cls && cls.subarray(0, CLASS_PREFIX.length).toString('latin1') === CLASS_PREFIX) {
    const match = CLASS_ID.exec(cls.toString('latin1'));
    if (match) return md5(`${match[1]},${a.acctSessionId ?? ''}`);
  }
  return md5(
    [
      a.userName ?? '',
      a.acctSessionId ?? '',
      a.nasIpv6Address || a.nasIpAddress || '',
      a.nasIdentifier ?? '',
      a.nasPortId ?? '',
      a.nasPort === undefined ? '' : String(a.nasPort),
    ].join(','),
  );
}
