import { createHash } from 'node:crypto';
import type { Random } from './random';

/** The radacct columns a bench seeds (radacctid aside), in radacctRow's order. */
export const RADACCT_COLUMNS = [
  'acctsessionid',
  'acctuniqueid',
  'username',
  'realm',
  'nasipaddress',
  'nasportid',
  'nasporttype',
  'acctstarttime',
  'acctupdatetime',
  'acctstoptime',
  'acctinterval',
  'acctsessiontime',
  'acctauthentic',
  'connectinfo_start',
  'connectinfo_stop',
  'acctinputoctets',
  'acctoutputoctets',
  'calledstationid',
  'callingstationid',
  'acctterminatecause',
  'servicetype',
  'framedprotocol',
  'framedipaddress',
];

/** One PPPoE session as a MikroTik NAS reports it through FreeRADIUS. */
export interface SeedSession {
  sessionId: string;
  /**
   * acctuniqueid; by default FreeRADIUS's acct_unique of a packet without NAS-Port (one that
   * has it: acctUniqueId() of src/radius/acct-unique-id.ts with its attributes).
   */
  uniqueId?: string;
  username: string;
  /** nasipaddress */
  nas: string;
  portId: string;
  /** Dates, or UTC 'YYYY-MM-DD HH:MM:SS' strings. */
  start: Date | string;
  updated: Date | string;
  /** null while open. */
  stop: Date | string | null;
  /** acctsessiontime */
  seconds: number;
  /** acctinputoctets: upload, Gigawords << 32 | Octets as a decimal string. */
  inputOctets: string;
  /** acctoutputoctets: download. */
  outputOctets: string;
  /** callingstationid */
  mac: string;
  terminateCause: string;
  /** framedipaddress */
  ip: string;
}

/** The row FreeRADIUS's queries.conf writes for a session, in RADACCT_COLUMNS' order. */
export function radacctRow(s: SeedSession): unknown[] {
  return [
    s.sessionId,
    // FreeRADIUS's acct_unique policy: an md5 over the user, session, NAS and port.
    s.uniqueId ??
      createHash('md5').update(`${s.username},${s.sessionId},${s.nas},,${s.portId},`).digest('hex'),
    s.username,
    '',
    s.nas,
    s.portId,
    'Ethernet',
    s.start,
    s.updated,
    s.stop,
    300,
    s.seconds,
    'RADIUS',
    '',
    s.stop ? '' : null,
    s.inputOctets,
    s.outputOctets,
    'pppoe-svc',
    s.mac,
    s.terminateCause,
    'Framed-User',
    'PPP',
    s.ip,
  ];
}

/** "3C:84:6A:1F:0B:9E": random octets after `prefix` (an OUI such as "3C:84:6A"), upper case. */
export function randomMac(r: Random, prefix = ''): string {
  const octets = prefix === '' ? 6 : 6 - prefix.split(':').length;
  const tail = Array.from({ length: octets }, () => r.between(0, 255).toString(16).padStart(2, '0'))
    .join(':')
    .toUpperCase();
  return prefix === '' ? tail : `${prefix}:${tail}`;
}

/** Acct-Terminate-Cause values of closed sessions. */
export const TERMINATE_CAUSES = ['User-Request', 'Lost-Carrier', 'Idle-Timeout', 'NAS-Reboot'];
