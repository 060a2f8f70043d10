import { hash } from 'node:crypto';

/** The attributes of an Accounting-Request that FreeRADIUS's acct_unique policy hashes. */
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

const md5 = (s: string) => hash('md5', s, 'hex');
const CLASS_PREFIX = 'ai:';
const CLASS_ID = /^ai:([0-9a-f]{32})/i;

/**
 * radacct.acctuniqueid as FreeRADIUS 3.2's `acct_unique` policy (policy.d/accounting) computes
 * it, so that a session written by FreeRADIUS and one written by radgraph's listener are the
 * same row:
 * - when Class starts with "ai:<32 hex>": md5("<hex>,<Acct-Session-Id>");
 * - else md5("User-Name,Acct-Session-Id,NAS-IPv6-Address or NAS-IP-Address,NAS-Identifier,
 *   NAS-Port-Id,NAS-Port"), a missing attribute being empty. FreeRADIUS's preprocess adds
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
