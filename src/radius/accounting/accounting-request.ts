import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  bytesAttribute,
  decodePacket,
  encodeResponse,
  integerAttribute,
  ipv4Attribute,
  md5WithSecret,
  printedInteger,
  rawAttribute,
  sized,
  type RadiusPacket,
  type ValueShape,
} from './accounting-codec';
import { acctUniqueId } from '../acct-unique-id';
import { PacketDropError } from './packet-drop';

/** RFC 2865: a packet is 20 to 4096 bytes. */
export const MIN_PACKET = 20;
export const MAX_PACKET = 4096;
const ACCOUNTING_REQUEST = 4;

export type AcctStatus = 'Start' | 'Interim-Update' | 'Stop' | 'Accounting-On' | 'Accounting-Off';
const SESSION_STATUSES = new Set(['Start', 'Interim-Update', 'Stop']);
const NAS_STATUSES = new Set(['Accounting-On', 'Accounting-Off']);

/**
 * One Accounting-Request, as the radacct columns FreeRADIUS 3.2's queries.conf would write
 * from it, after the radgraph site's preacct (preprocess, acct_unique). Strings are what
 * `%{Attribute}` expands to in a query, as the column then holds it: the value escaped the way
 * rlm_sql escapes it (sqlEscape), or '' when absent.
 */
export interface AccountingRecord {
  status: AcctStatus;
  acctUniqueId: string;
  acctSessionId: string;
  /** User-Name as %{SQL-User-Name} expands: printed quoted (printedQuoted), then escaped. */
  username: string;
  realm: string;
  /**
   * NAS-IP-Address, or the packet's IPv4 source address (FreeRADIUS's preprocess adds it, even
   * when the packet has NAS-IPv6-Address).
   */
  nasIpAddress: string;
  /** NAS-Port-Id (escaped twice, see toRecord), else NAS-Port, else ''. */
  nasPortId: string;
  nasPortType: string;
  /** Event-Timestamp, or the time the packet arrived less Acct-Delay-Time: Unix seconds. */
  eventTime: number;
  /** Acct-Session-Time, or null when absent. */
  sessionTime: number | null;
  acctAuthentic: string;
  connectInfo: string;
  /** Gigawords << 32 | Octets, exact, as a decimal string. */
  inputOctets: string;
  outputOctets: string;
  calledStationId: string;
  callingStationId: string;
  terminateCause: string;
  serviceType: string;
  framedProtocol: string;
  framedIpAddress: string;
  framedIpv6Address: string;
  framedIpv6Prefix: string;
  framedInterfaceId: string;
  delegatedIpv6Prefix: string;
}

export type { RadiusPacket };

export interface DecodedAccounting {
  packet: RadiusPacket;
  /** null: valid, but nothing to write (e.g. Acct-Status-Type Failed); it is still answered. */
  record: AccountingRecord | null;
}

/**
 * Cheap checks before any decoding: the size and the header's length field. The `radius`
 * package throws on many malformed packets and silently reads past others; these checks and a
 * guarded decode keep every malformed packet a counted drop.
 */
export function checkFraming(buf: Buffer): void {
  if (buf.length < MIN_PACKET) {
    throw new PacketDropError('malformed', `packet of ${buf.length} bytes is shorter than 20`);
  }
  if (buf.length > MAX_PACKET) {
    throw new PacketDropError('malformed', `packet of ${buf.length} bytes is longer than 4096`);
  }
  const length = buf.readUInt16BE(2);
  if (length < MIN_PACKET || length > buf.length) {
    throw new PacketDropError(
      'malformed',
      `length field ${length} does not fit a ${buf.length}-byte packet`,
    );
  }
  if (buf[0] !== ACCOUNTING_REQUEST) {
    throw new PacketDropError('wrong-code', `packet code ${buf[0]} is not Accounting-Request (4)`);
  }
  // Every attribute must fit exactly: the radius package reads past a short one.
  let offset = MIN_PACKET;
  while (offset < length) {
    if (offset + 2 > length) throw new PacketDropError('malformed', 'truncated attribute header');
    const attrLength = buf[offset + 1];
    if (attrLength < 2 || offset + attrLength > length) {
      throw new PacketDropError('malformed', `attribute ${buf[offset]} has a bad length`);
    }
    offset += attrLength;
  }
}

/**
 * Decodes an Accounting-Request from a known NAS, verifying its Request Authenticator (and its
 * Message-Authenticator, when it has one) with the NAS's secret.
 */
export function decodeAccounting(
  buf: Buffer,
  secret: string,
  sourceAddress: string,
  receivedAt: Date,
): DecodedAccounting {
  checkFraming(buf);
  const length = buf.readUInt16BE(2);
  const data = buf.subarray(0, length);
  verifyAuthenticators(data, secret);
  // Verified above: the radius package's own check compares the digests as UTF-8 text,
  // which lets some wrong authenticators through.
  const packet = decodePacket(data);
  return { packet, record: toRecord(packet, sourceAddress, receivedAt) };
}

const AUTH_START = 4;
const AUTH_END = 20;
const MESSAGE_AUTHENTICATOR = 80;

/**
 * RFC 2866: the Request Authenticator is MD5(Code+Identifier+Length+16 zero octets+Attributes+
 * secret). RFC 3579/5080: a Message-Authenticator is HMAC-MD5 over the packet with the
 * authenticator and itself zeroed (as FreeRADIUS checks it on accounting). Both compared in
 * constant time.
 */
function verifyAuthenticators(data: Buffer, secret: string): void {
  const zeroed = Buffer.from(data);
  zeroed.fill(0, AUTH_START, AUTH_END);
  if (!timingSafeEqual(md5WithSecret(zeroed, secret), data.subarray(AUTH_START, AUTH_END))) {
    throw new PacketDropError('bad-authenticator', 'Request Authenticator does not match');
  }
  for (let offset = AUTH_END; offset < data.length; offset += data[offset + 1]) {
    if (data[offset] !== MESSAGE_AUTHENTICATOR) continue;
    if (data[offset + 1] !== 18) {
      throw new PacketDropError('malformed', 'Message-Authenticator is not 16 bytes');
    }
    zeroed.fill(0, offset + 2, offset + 18);
    const mac = createHmac('md5', secret).update(zeroed).digest();
    if (!timingSafeEqual(mac, data.subarray(offset + 2, offset + 18))) {
      throw new PacketDropError('bad-authenticator', 'Message-Authenticator does not match');
    }
    return;
  }
}

/**
 * What radacct can hold. A packet beyond it could never be written (MariaDB before 11.5 has
 * no FROM_UNIXTIME past 2038; the octet columns are signed BIGINT): it would fail every batch
 * it lands in, at each retransmit, so it is dropped as malformed instead.
 */
const MAX_EVENT_TIME = 2 ** 31 - 1;
const MAX_OCTETS = 2n ** 63n - 1n;

/** Below this many Gigawords the count is exact as a double (under 2^53). */
const EXACT_GIGAWORDS = 2 ** 21;

/** Gigawords << 32 | Octets as a decimal string, from the attributes `low` and `high`. */
function octets(packet: RadiusPacket, low: number, high: number, name: string): string {
  const lo = integerAttribute(packet, low) ?? 0;
  const hi = integerAttribute(packet, high) ?? 0;
  if (hi < EXACT_GIGAWORDS) return String(hi * 2 ** 32 + lo);
  const value = (BigInt(hi) << 32n) | BigInt(lo);
  if (value > MAX_OCTETS) {
    throw new PacketDropError('malformed', `${name} ${hi} is more than radacct holds`);
  }
  return value.toString();
}

/**
 * The stock mysql queries.conf's safe_characters. With auto_escape off (the stock setting,
 * which radius-config/ keeps), rlm_sql writes any other byte of an expanded value as "=XX".
 */
const SQL_SAFE = '@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /';
/** 1 for each safe byte: a table lookup per byte (a Set's hash lookup cost more). */
const SAFE_BYTE = new Uint8Array(256);
for (const c of Buffer.from(SQL_SAFE, 'latin1')) SAFE_BYTE[c] = 1;
const ALL_SAFE = /^[@a-zA-Z0-9.\-_: /]*$/;
const TAB = 0x09;

function allSafe(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (SAFE_BYTE[b[i]] !== 1) return false;
  return true;
}
const LF = 0x0a;
const CR = 0x0d;

/** The length of the valid multi-byte UTF-8 character at b[i] (fr_utf8_char), else 0 or 1. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i];
  const next = (k: number, low = 0x80, high = 0xbf) =>
    i + k < b.length && b[i + k] >= low && b[i + k] <= high;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return next(1) ? 2 : 0;
  if (c === 0xe0) return next(1, 0xa0) && next(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return next(1) && next(2) ? 3 : 0;
  if (c === 0xed) return next(1, 0x80, 0x9f) && next(2) ? 3 : 0;
  if (c === 0xf0) return next(1, 0x90) && next(2) && next(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return next(1) && next(2) && next(3) ? 4 : 0;
  if (c === 0xf4) return next(1, 0x80, 0x8f) && next(2) && next(3) ? 4 : 0;
  return 0;
}

/**
 * A value as FreeRADIUS 3.2's rlm_sql stores it, following its escape function
 * (sql_escape_func) byte by byte, so that a row written by radgraph is the row FreeRADIUS
 * would have written (the differential e2e test compares them):
 * - valid multi-byte UTF-8 characters and the safe characters are kept;
 * - tab, LF and CR go into the query as \t, \n, \r, which MySQL stores as the character
 *   itself; FreeRADIUS then handles the next byte in the same pass, without its UTF-8 check;
 * - every other byte becomes "=XX" (upper-case hex): "a,b" is stored as "a=2Cb";
 * - the value ends at a NUL byte (it is a C string there).
 */
export function sqlEscape(value: Buffer | string): string {
  // Most values (usernames, session ids, MACs) are all safe characters: nothing to do.
  if (typeof value === 'string' ? ALL_SAFE.test(value) : allSafe(value)) {
    return typeof value === 'string' ? value : value.toString('latin1');
  }
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const out: number[] = [];
  const encode = (c: number) =>
    out.push(...Buffer.from(`=${c.toString(16).toUpperCase().padStart(2, '0')}`, 'latin1'));
  let i = 0;
  while (i < b.length && b[i] !== 0) {
    const length = utf8Length(b, i);
    if (length > 1) {
      out.push(...b.subarray(i, i + length));
      i += length;
      continue;
    }
    if (b[i] === TAB || b[i] === LF || b[i] === CR) {
      out.push(b[i]);
      i++;
      // At the very end FreeRADIUS reads on past the value; that is not followed here.
      if (i >= b.length || b[i] === 0) break;
    }
    const c = b[i];
    if (c < 0x20 || c >= 0x80 || SAFE_BYTE[c] !== 1) encode(c);
    else out.push(c);
    i++;
  }
  return Buffer.from(out).toString('utf8');
}

const BACKSLASH = 0x5c;
const DOUBLE_QUOTE = 0x22;
const DEL = 0x7f;

/**
 * A string as FreeRADIUS prints it quoted (fr_prints with '"'), before any SQL escaping:
 * rlm_sql's username column is %{SQL-User-Name}, which rlm_sql sets by expanding %{User-Name}
 * with no escape function, so the User-Name is printed that way first:
 * - a backslash or a double quote gets a backslash; tab, LF and CR are \t, \n, \r;
 * - any other byte below 0x20, DEL, and each byte that is not part of valid UTF-8 is \ooo;
 * - a last NUL is dropped (FreeRADIUS's decoder drops one), any other NUL is \000.
 * Safe characters (most User-Names) are themselves: the same Buffer back.
 */
export function printedQuoted(b: Buffer): Buffer {
  if (allSafe(b)) return b;
  const end = b[b.length - 1] === 0 ? b.length - 1 : b.length;
  const out: number[] = [];
  const octal = (c: number) =>
    out.push(BACKSLASH, 0x30 + (c >> 6), 0x30 + ((c >> 3) & 7), 0x30 + (c & 7));
  for (let i = 0; i < end;) {
    const c = b[i];
    const length = c >= 0x80 ? utf8Length(b.subarray(0, end), i) : 1;
    if (length > 1) {
      for (let k = 0; k < length; k++) out.push(b[i + k]);
      i += length;
      continue;
    }
    if (c === BACKSLASH || c === DOUBLE_QUOTE) out.push(BACKSLASH, c);
    else if (c === TAB) out.push(BACKSLASH, 0x74);
    else if (c === LF) out.push(BACKSLASH, 0x6e);
    else if (c === CR) out.push(BACKSLASH, 0x72);
    else if (c < 0x20 || c >= DEL) octal(c);
    else out.push(c);
    i++;
  }
  return Buffer.from(out);
}

/** An IPv6 address as FreeRADIUS prints it (inet_ntop: zeros compressed). */
export function formatIpv6(bytes: Buffer): string {
  const padded = Buffer.alloc(16);
  bytes.copy(padded, 0, 0, Math.min(16, bytes.length));
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(padded.readUInt16BE(i));
  // The longest run of two or more zero groups becomes "::".
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // glibc's inet_ntop writes an IPv4-compatible or IPv4-mapped address with its last 32 bits
  // dotted: ::1.2.3.4, ::ffff:1.2.3.4.
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    return `::${bestLength === 5 ? 'ffff:' : ''}${Array.from(padded.subarray(12)).join('.')}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

const IPV6_ADDRESS = sized(16);
const INTERFACE_ID = sized(8);
/** FreeRADIUS's decoder: 2 to 18 bytes, a prefix length up to 128 (a shorter prefix is zero-padded). */
const IPV6_PREFIX: ValueShape = (data, start, end) =>
  end - start >= 2 && end - start <= 18 && data[start + 1] <= 128;

function ipv6Address(packet: RadiusPacket, type: number): string {
  const v = rawAttribute(packet, type, IPV6_ADDRESS);
  return v ? formatIpv6(v) : '';
}

function ipv6Prefix(packet: RadiusPacket, type: number): string {
  const v = rawAttribute(packet, type, IPV6_PREFIX);
  return v ? `${formatIpv6(v.subarray(2))}/${v[1]}` : '';
}

function interfaceId(packet: RadiusPacket, type: number): string {
  const v = rawAttribute(packet, type, INTERFACE_ID);
  if (!v) return '';
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(v.readUInt16BE(i).toString(16));
  return groups.join(':');
}

const NOTHING = Buffer.alloc(0);
const USER_NAME = 1;
const NAS_IP_ADDRESS = 4;
const NAS_PORT = 5;
const SERVICE_TYPE = 6;
const FRAMED_PROTOCOL = 7;
const FRAMED_IP_ADDRESS = 8;
const NAS_IDENTIFIER = 32;
const ACCT_STATUS_TYPE = 40;
const ACCT_DELAY_TIME = 41;
const ACCT_INPUT_OCTETS = 42;
const ACCT_OUTPUT_OCTETS = 43;
const ACCT_AUTHENTIC = 45;
const ACCT_SESSION_TIME = 46;
const ACCT_TERMINATE_CAUSE = 49;
const ACCT_INPUT_GIGAWORDS = 52;
const ACCT_OUTPUT_GIGAWORDS = 53;
const EVENT_TIMESTAMP = 55;
const NAS_PORT_TYPE = 61;
const CALLED_STATION_ID = 30;
const CALLING_STATION_ID = 31;
const ACCT_SESSION_ID = 44;
const CONNECT_INFO = 77;
const NAS_PORT_ID = 87;
const NAS_IPV6_ADDRESS = 95;
const FRAMED_INTERFACE_ID = 96;
const FRAMED_IPV6_PREFIX = 97;
const DELEGATED_IPV6_PREFIX = 123;
const FRAMED_IPV6_ADDRESS = 168;
const CLASS = 25;

function toRecord(
  packet: RadiusPacket,
  sourceAddress: string,
  receivedAt: Date,
): AccountingRecord | null {
  const status = printedInteger(packet, ACCT_STATUS_TYPE);
  if (status === '') throw new PacketDropError('malformed', 'no Acct-Status-Type');
  if (!SESSION_STATUSES.has(status) && !NAS_STATUSES.has(status)) return null;

  // preprocess (add_nas_attr): a packet from an IPv4 address without NAS-IP-Address gets the
  // source address as NAS-IP-Address, even when it names itself with NAS-IPv6-Address; one
  // from an IPv6 address without NAS-IPv6-Address gets that instead.
  // The source is a normalized address (nas/nas-clients.ts): only an IPv6 one holds a colon.
  const fromIpv6 = sourceAddress.includes(':');
  const nasIpv6 = ipv6Address(packet, NAS_IPV6_ADDRESS) || (fromIpv6 ? sourceAddress : '');
  const nasIpAddress = ipv4Attribute(packet, NAS_IP_ADDRESS) || (fromIpv6 ? '' : sourceAddress);
  const nasPort = integerAttribute(packet, NAS_PORT);
  // Their bytes (latin1), as FreeRADIUS hashes them for acctuniqueid.
  const nasPortIdAttr = bytesAttribute(packet, NAS_PORT_ID) ?? '';
  const acctSessionId = bytesAttribute(packet, ACCT_SESSION_ID) ?? '';
  const username = bytesAttribute(packet, USER_NAME) ?? '';
  if (SESSION_STATUSES.has(status) && acctSessionId === '') {
    throw new PacketDropError('malformed', `${status} without Acct-Session-Id`);
  }
  const eventTimestamp = integerAttribute(packet, EVENT_TIMESTAMP);
  const arrival = Math.floor(receivedAt.getTime() / 1000);
  // preprocess: without Event-Timestamp, the arrival time less Acct-Delay-Time (ignored when
  // it is not smaller than the arrival time, or 2^32-1).
  const delay = integerAttribute(packet, ACCT_DELAY_TIME) ?? 0;
  const eventTime =
    eventTimestamp ?? arrival - (delay < arrival && delay !== 0xffffffff ? delay : 0);
  if (eventTime > MAX_EVENT_TIME) {
    throw new PacketDropError('malformed', `Event-Timestamp ${eventTime} is past 2038-01-19`);
  }
  const { serviceType, framedProtocol } = preprocessed(packet, username);
  // String attributes are escaped from their bytes, which may not be UTF-8; the others are
  // printed (numbers, value names, addresses) and then escaped.
  const stored = (type: number) => sqlEscape(rawAttribute(packet, type) ?? NOTHING);
  const printed = (type: number) => sqlEscape(printedInteger(packet, type));
  // '%{%{NAS-Port-ID}:-%{NAS-Port}}': rlm_sql escapes the inner expansion, then the result of
  // the alternation once more, so NAS-Port-Id is escaped twice ("a,b" is stored "a=3D2Cb").
  const nasPortId = nasPortIdAttr
    ? sqlEscape(stored(NAS_PORT_ID))
    : nasPort === undefined
      ? ''
      : String(nasPort);

  return {
    status: status as AcctStatus,
    acctUniqueId: acctUniqueId({
      userName: username,
      acctSessionId,
      nasIpAddress,
      nasIpv6Address: nasIpv6,
      nasIdentifier: bytesAttribute(packet, NAS_IDENTIFIER) ?? '',
      nasPortId: nasPortIdAttr,
      nasPort,
      classValue: rawAttribute(packet, CLASS),
    }),
    acctSessionId: stored(ACCT_SESSION_ID),
    username: sqlEscape(printedQuoted(rawAttribute(packet, USER_NAME) ?? NOTHING)),
    realm: '',
    nasIpAddress: sqlEscape(nasIpAddress),
    nasPortId,
    nasPortType: printed(NAS_PORT_TYPE),
    eventTime,
    sessionTime: integerAttribute(packet, ACCT_SESSION_TIME) ?? null,
    acctAuthentic: printed(ACCT_AUTHENTIC),
    connectInfo: stored(CONNECT_INFO),
    inputOctets: octets(packet, ACCT_INPUT_OCTETS, ACCT_INPUT_GIGAWORDS, 'Acct-Input-Gigawords'),
    outputOctets: octets(
      packet,
      ACCT_OUTPUT_OCTETS,
      ACCT_OUTPUT_GIGAWORDS,
      'Acct-Output-Gigawords',
    ),
    calledStationId: stored(CALLED_STATION_ID),
    callingStationId: stored(CALLING_STATION_ID),
    terminateCause: printed(ACCT_TERMINATE_CAUSE),
    serviceType: sqlEscape(serviceType),
    framedProtocol: sqlEscape(framedProtocol),
    framedIpAddress: sqlEscape(ipv4Attribute(packet, FRAMED_IP_ADDRESS)),
    framedIpv6Address: ipv6Address(packet, FRAMED_IPV6_ADDRESS),
    framedIpv6Prefix: ipv6Prefix(packet, FRAMED_IPV6_PREFIX),
    framedInterfaceId: interfaceId(packet, FRAMED_INTERFACE_ID),
    delegatedIpv6Prefix: ipv6Prefix(packet, DELEGATED_IPV6_PREFIX),
  };
}

/**
 * The stock preprocess hints file (mods-config/preprocess/hints, which radius-config/ keeps):
 * a User-Name with this suffix gets these attributes when the packet lacks them.
 */
const HINTS: ReadonlyArray<{ suffix: string; framedProtocol: string }> = [
  { suffix: '.ppp', framedProtocol: 'PPP' },
  { suffix: '.slip', framedProtocol: 'SLIP' },
  { suffix: '.cslip', framedProtocol: 'SLIP' },
];

/**
 * Service-Type and Framed-Protocol after FreeRADIUS's preprocess: with a User-Name and a
 * Framed-Protocol but no Service-Type, it adds Service-Type = Framed-User (rad_mangle); then
 * the first hint whose suffix ends the User-Name adds Service-Type = Framed-User and its
 * Framed-Protocol where they are missing.
 */
function preprocessed(
  packet: RadiusPacket,
  username: string,
): { serviceType: string; framedProtocol: string } {
  let serviceType = printedInteger(packet, SERVICE_TYPE);
  let framedProtocol = printedInteger(packet, FRAMED_PROTOCOL);
  if (username === '') return { serviceType, framedProtocol };
  if (framedProtocol !== '' && serviceType === '') serviceType = 'Framed-User';
  const hint = HINTS.find((h) => username.endsWith(h.suffix));
  if (hint) {
    serviceType ||= 'Framed-User';
    framedProtocol ||= hint.framedProtocol;
  }
  return { serviceType, framedProtocol };
}

/** The Accounting-Response to a decoded request, signed with the NAS's secret. */
export function encodeAccountingResponse(packet: RadiusPacket, secret: string): Buffer {
  return encodeResponse(packet, secret);
}
