import { createHmac, hash } from 'node:crypto';
import radius from 'radius';
import { loadRadiusDictionaries } from '../dictionary';

/**
 * A fast decoder and encoder for the accounting listener's hot path. The `radius` package
 * decodes every attribute of every packet through its generic dictionary code (slices,
 * deprecated `new Buffer`, vendor recursion), about 100 µs a packet; the listener needs
 * two dozen attributes, so it reads those itself. Value names (Acct-Status-Type "Start",
 * NAS-Port-Type "Ethernet", ...) come from the `radius` package's own dictionaries plus
 * radgraph's, read once, so they are the names it would print.
 */

/**
 * What the listener reads of a packet: where every attribute sits in `data` (no object or
 * Buffer per attribute: a packet has two dozen of them). The readers below give a value by
 * attribute number, as FreeRADIUS would print it.
 */
export interface RadiusPacket {
  code: string;
  identifier: number;
  length: number;
  /** The Request Authenticator (a view of `data`). */
  authenticator: Buffer;
  /** The packet's bytes (a view of the datagram, valid while the packet is in use). */
  data: Buffer;
  /** Every attribute, in order, as three numbers: its type, and its value's start and end. */
  raw: number[];
}

/** The attributes with named integer values: their names, by attribute number. */
const ENUMERATED: Record<number, string> = {
  6: 'Service-Type',
  7: 'Framed-Protocol',
  40: 'Acct-Status-Type',
  45: 'Acct-Authentic',
  49: 'Acct-Terminate-Cause',
  61: 'NAS-Port-Type',
};
/** Named values are looked up up to here; a larger value is printed as its number. */
const ENUM_PROBE_LIMIT = 256;

/**
 * Where FreeRADIUS 3.2's dictionaries (/usr/share/freeradius) name a value that the `radius`
 * package names otherwise or not at all, FreeRADIUS's name: rlm_sql writes that one. The
 * differential e2e test sends every value either dictionary names and compares the rows.
 */
const FREERADIUS_NAMES: Record<number, Record<number, string>> = {
  6: {
    12: 'Sip-session',
    252: 'HP-Oper',
    255: 'HP-User',
    0x06300001: 'Annex-Authorize-Only',
    0x06300002: 'Annex-Framed-Tunnel',
    0x38df0001: 'ChilliSpot-Authorize-Only',
  },
  7: {
    255: 'Ascend-ARA',
    256: 'Ascend-MPP',
    257: 'Ascend-EURAW',
    258: 'Ascend-EUUI',
    259: 'Ascend-X25',
    260: 'Ascend-COMB',
    261: 'Ascend-FR',
    262: 'Ascend-MP',
    263: 'Ascend-FR-CIR',
    0x01100002: 'Bintec-X25',
    0x01100003: 'Bintec-X25-PPP',
    0x01100004: 'Bintec-IP-LAPB',
    0x01100006: 'Bintec-IP-HDLC',
    0x01100007: 'Bintec-MPR-LAPB',
    0x01100008: 'Bintec-MPR-HDLC',
    0x01100009: 'Bintec-FRAME-RELAY',
    0x0110000a: 'Bintec-X31-BCHAN',
    0x0110000b: 'Bintec-X75-PPP',
    0x0110000c: 'Bintec-X75BTX-PPP',
    0x0110000d: 'Bintec-X25-NOSIG',
    0x0110000e: 'Bintec-X25-PPP-OPT',
  },
};

let valueNames: Map<number, Map<number, string>> | null = null;

/**
 * The value names of the enumerated attributes, asked of the `radius` package once: it
 * decodes a packet holding each value, with radgraph's dictionaries loaded.
 */
function names(): Map<number, Map<number, string>> {
  if (valueNames) return valueNames;
  loadRadiusDictionaries();
  const out = new Map<number, Map<number, string>>();
  for (const [type, name] of Object.entries(ENUMERATED)) {
    const byValue = new Map<number, string>();
    for (let value = 0; value < ENUM_PROBE_LIMIT; value++) {
      const packet = Buffer.alloc(26);
      packet[0] = 4;
      packet.writeUInt16BE(26, 2);
      packet[20] = Number(type);
      packet[21] = 6;
      packet.writeUInt32BE(value, 22);
      const decoded = radius.decode_without_secret({ packet }) as {
        attributes: Record<string, unknown>;
      };
      const printed = decoded.attributes[name];
      if (typeof printed === 'string') byValue.set(value, printed);
    }
    for (const [value, freeradius] of Object.entries(FREERADIUS_NAMES[Number(type)] ?? {})) {
      byValue.set(Number(value), freeradius);
    }
    out.set(Number(type), byValue);
  }
  valueNames = out;
  return out;
}

const CODES: Record<number, string> = { 4: 'Accounting-Request' };

/** Reads a packet whose framing was checked (every attribute fits): where each attribute is. */
export function decodePacket(data: Buffer): RadiusPacket {
  const raw: number[] = [];
  const length = data.readUInt16BE(2);
  for (let offset = 20; offset + 2 <= length;) {
    const end = offset + data[offset + 1];
    raw.push(data[offset], offset + 2, end);
    offset = end;
  }
  return {
    code: CODES[data[0]] ?? String(data[0]),
    identifier: data[1],
    length,
    authenticator: data.subarray(4, 20),
    data,
    raw,
  };
}

/**
 * Whether an attribute's value, data[start, end), is one FreeRADIUS keeps as its dictionary
 * type. It keeps no attribute of zero length (its decoder skips them), and it keeps an
 * integer, date, address or prefix of the wrong shape only as raw bytes, under another name:
 * either way `%{Attribute}` then reads the next attribute of the same type.
 */
export type ValueShape = (data: Buffer, start: number, end: number) => boolean;

const NOT_EMPTY: ValueShape = (_data, start, end) => end > start;

/** A value of exactly `size` bytes. */
export const sized =
  (size: number): ValueShape =>
  (_data, start, end) =>
    end - start === size;

/**
 * Where the value of the first attribute of `type` that FreeRADIUS would keep (see
 * ValueShape) is (its start; the end follows it in `raw`), or -1.
 */
function find(packet: RadiusPacket, type: number, shape: ValueShape = NOT_EMPTY): number {
  const { raw, data } = packet;
  for (let i = 0; i < raw.length; i += 3) {
    if (raw[i] === type && shape(data, raw[i + 1], raw[i + 2])) return i;
  }
  return -1;
}

/** The value of the first attribute of `type` of that shape, as a view of the packet's bytes. */
export function rawAttribute(
  packet: RadiusPacket,
  type: number,
  shape: ValueShape = NOT_EMPTY,
): Buffer | undefined {
  const i = find(packet, type, shape);
  return i < 0 ? undefined : packet.data.subarray(packet.raw[i + 1], packet.raw[i + 2]);
}

/**
 * A string attribute's bytes, one character each (latin1), but a last NUL (FreeRADIUS's decoder
 * drops one), or undefined: what FreeRADIUS hashes, byte for byte (acct-unique-id.ts).
 */
export function bytesAttribute(packet: RadiusPacket, type: number): string | undefined {
  const i = find(packet, type);
  if (i < 0) return undefined;
  const { data, raw } = packet;
  let end = raw[i + 2];
  if (data[end - 1] === 0) end--;
  return data.toString('latin1', raw[i + 1], end);
}

const FOUR_BYTES = sized(4);

/** An integer (or date: Unix seconds) attribute, or undefined. */
export function integerAttribute(packet: RadiusPacket, type: number): number | undefined {
  const i = find(packet, type, FOUR_BYTES);
  return i < 0 ? undefined : packet.data.readUInt32BE(packet.raw[i + 1]);
}

/** An integer attribute as printed: its value's name when it has one, else the number; or ''. */
export function printedInteger(packet: RadiusPacket, type: number): string {
  const n = integerAttribute(packet, type);
  if (n === undefined) return '';
  return names().get(type)?.get(n) ?? String(n);
}

/** An IPv4 address attribute, dotted, or ''. */
export function ipv4Attribute(packet: RadiusPacket, type: number): string {
  const i = find(packet, type, FOUR_BYTES);
  if (i < 0) return '';
  const { data } = packet;
  const at = packet.raw[i + 1];
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
}

const ACCOUNTING_RESPONSE = 5;
const PROXY_STATE = 33;
const MESSAGE_AUTHENTICATOR = 80;

/**
 * The Accounting-Response to a request (RFC 2866): its Proxy-State attributes copied back in
 * order, a Message-Authenticator when the request had one (RFC 3579), and the Response
 * Authenticator MD5(Code+Identifier+Length+Request Authenticator+Attributes+secret).
 */
export function encodeResponse(request: RadiusPacket, secret: string): Buffer {
  const { raw, data } = request;
  let size = 20;
  let signed = false;
  for (let i = 0; i < raw.length; i += 3) {
    if (raw[i] === PROXY_STATE) size += raw[i + 2] - raw[i + 1] + 2;
    else if (raw[i] === MESSAGE_AUTHENTICATOR) signed = true;
  }
  if (signed) size += 18;
  const out = Buffer.allocUnsafe(size);
  out[0] = ACCOUNTING_RESPONSE;
  out[1] = request.identifier;
  out.writeUInt16BE(size, 2);
  request.authenticator.copy(out, 4);
  let at = 20;
  for (let i = 0; i < raw.length; i += 3) {
    if (raw[i] !== PROXY_STATE) continue;
    out[at] = PROXY_STATE;
    out[at + 1] = raw[i + 2] - raw[i + 1] + 2;
    data.copy(out, at + 2, raw[i + 1], raw[i + 2]);
    at += raw[i + 2] - raw[i + 1] + 2;
  }
  if (signed) {
    out[at] = MESSAGE_AUTHENTICATOR;
    out[at + 1] = 18;
    out.fill(0, at + 2, at + 18);
    createHmac('md5', secret)
      .update(out)
      .digest()
      .copy(out, at + 2);
  }
  md5WithSecret(out, secret).copy(out, 4);
  return out;
}

/** MD5 in one call (crypto.hash): a third of createHash's cost for a packet-sized input. */
const md5 = (data: Buffer): Buffer => hash('md5', data, 'buffer');

/**
 * MD5 of `bytes` followed by `secret` (UTF-8), as RFC 2865/2866 authenticators are computed:
 * one buffer, one hash call, and the secret zeroed in it afterwards (a small Buffer comes from
 * a shared pool).
 */
export function md5WithSecret(bytes: Buffer, secret: string): Buffer {
  const signed = Buffer.allocUnsafe(bytes.length + Buffer.byteLength(secret, 'utf8'));
  bytes.copy(signed);
  signed.write(secret, bytes.length, 'utf8');
  const digest = md5(signed);
  signed.fill(0, bytes.length);
  return digest;
}
