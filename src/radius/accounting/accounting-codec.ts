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
 * What the listener reads of a packet: the attributes it knows by name, and where every
 * attribute sits in `data` (no Buffer per attribute: a packet has two dozen of them).
 */
export interface RadiusPacket {
  code: string;
  identifier: number;
  length: number;
  /** The Request Authenticator (a view of `data`). */
  authenticator: Buffer;
  attributes: Record<string, unknown>;
  /** The packet's bytes (a view of the datagram, valid while the packet is in use). */
  data: Buffer;
  /** Every attribute, in order, as three numbers: its type, and its value's start and end. */
  raw: number[];
}

/** The value of the first attribute of `type`, as a view of the packet's bytes. */
export function rawAttribute(packet: RadiusPacket, type: number): Buffer | undefined {
  const { raw } = packet;
  for (let i = 0; i < raw.length; i += 3) {
    if (raw[i] === type) return packet.data.subarray(raw[i + 1], raw[i + 2]);
  }
  return undefined;
}

type Kind = 'string' | 'integer' | 'date' | 'ipaddr' | 'octets';

/** The attributes radacct is written from: type -> [name, kind], as in the RFC dictionaries. */
const KNOWN: Record<number, [string, Kind]> = {
  1: ['User-Name', 'string'],
  4: ['NAS-IP-Address', 'ipaddr'],
  5: ['NAS-Port', 'integer'],
  6: ['Service-Type', 'integer'],
  7: ['Framed-Protocol', 'integer'],
  8: ['Framed-IP-Address', 'ipaddr'],
  25: ['Class', 'octets'],
  30: ['Called-Station-Id', 'string'],
  31: ['Calling-Station-Id', 'string'],
  32: ['NAS-Identifier', 'string'],
  40: ['Acct-Status-Type', 'integer'],
  41: ['Acct-Delay-Time', 'integer'],
  42: ['Acct-Input-Octets', 'integer'],
  43: ['Acct-Output-Octets', 'integer'],
  44: ['Acct-Session-Id', 'string'],
  45: ['Acct-Authentic', 'integer'],
  46: ['Acct-Session-Time', 'integer'],
  49: ['Acct-Terminate-Cause', 'integer'],
  52: ['Acct-Input-Gigawords', 'integer'],
  53: ['Acct-Output-Gigawords', 'integer'],
  55: ['Event-Timestamp', 'date'],
  61: ['NAS-Port-Type', 'integer'],
  77: ['Connect-Info', 'string'],
  80: ['Message-Authenticator', 'octets'],
  87: ['NAS-Port-Id', 'string'],
};

/** Attributes whose integer values have names. */
const ENUMERATED = [6, 7, 40, 45, 49, 61];
/** Named values are looked up up to here; a larger value is printed as its number. */
const ENUM_PROBE_LIMIT = 256;

let valueNames: Map<number, Map<number, string>> | null = null;

/**
 * The value names of the enumerated attributes, asked of the `radius` package once: it
 * decodes a packet holding each value, with radgraph's dictionaries loaded.
 */
function names(): Map<number, Map<number, string>> {
  if (valueNames) return valueNames;
  loadRadiusDictionaries();
  const out = new Map<number, Map<number, string>>();
  for (const type of ENUMERATED) {
    const [name] = KNOWN[type];
    const byValue = new Map<number, string>();
    for (let value = 0; value < ENUM_PROBE_LIMIT; value++) {
      const packet = Buffer.alloc(26);
      packet[0] = 4;
      packet.writeUInt16BE(26, 2);
      packet[20] = type;
      packet[21] = 6;
      packet.writeUInt32BE(value, 22);
      const decoded = radius.decode_without_secret({ packet }) as {
        attributes: Record<string, unknown>;
      };
      const printed = decoded.attributes[name];
      if (typeof printed === 'string') byValue.set(value, printed);
    }
    out.set(type, byValue);
  }
  valueNames = out;
  return out;
}

const CODES: Record<number, string> = { 4: 'Accounting-Request' };

/**
 * Decodes a packet whose framing was checked (every attribute fits). An attribute its type
 * cannot hold (a 3-byte integer) is left out of `attributes`, as FreeRADIUS keeps such an
 * attribute only as raw bytes; all of them stay in `raw_attributes`.
 */
export function decodePacket(data: Buffer): RadiusPacket {
  const enums = names();
  const attributes: Record<string, unknown> = {};
  const raw: number[] = [];
  const length = data.readUInt16BE(2);
  for (let offset = 20; offset + 2 <= length;) {
    const type = data[offset];
    const start = offset + 2;
    const end = offset + data[offset + 1];
    offset = end;
    raw.push(type, start, end);
    const known = KNOWN[type];
    if (!known) continue;
    const [name, kind] = known;
    const size = end - start;
    let decoded: unknown;
    switch (kind) {
      case 'string':
        decoded = data.toString('utf8', start, end);
        break;
      case 'octets':
        decoded = data.subarray(start, end);
        break;
      case 'ipaddr':
        if (size !== 4) continue;
        decoded = `${data[start]}.${data[start + 1]}.${data[start + 2]}.${data[start + 3]}`;
        break;
      case 'date':
        if (size !== 4) continue;
        decoded = new Date(data.readUInt32BE(start) * 1000);
        break;
      case 'integer': {
        if (size !== 4) continue;
        const n = data.readUInt32BE(start);
        decoded = enums.get(type)?.get(n) ?? n;
        break;
      }
    }
    const before = attributes[name];
    if (before === undefined) attributes[name] = decoded;
    else if (Array.isArray(before)) before.push(decoded);
    else attributes[name] = [before, decoded];
  }
  return {
    code: CODES[data[0]] ?? String(data[0]),
    identifier: data[1],
    length,
    authenticator: data.subarray(4, 20),
    attributes,
    data,
    raw,
  };
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
  const key = secretBytes(secret);
  // The response, then the secret after it: the Response Authenticator is one MD5 of both.
  const out = Buffer.allocUnsafe(size + key.length);
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
  const response = out.subarray(0, size);
  if (signed) {
    out[at] = MESSAGE_AUTHENTICATOR;
    out[at + 1] = 18;
    out.fill(0, at + 2, at + 18);
    createHmac('md5', secret)
      .update(response)
      .digest()
      .copy(out, at + 2);
  }
  key.copy(out, size);
  md5(out).copy(out, 4);
  out.fill(0, size); // the secret does not stay behind the response
  return response;
}

/** MD5 in one call (crypto.hash): a third of createHash's cost for a packet-sized input. */
export const md5 = (data: Buffer): Buffer => hash('md5', data, 'buffer');

const SECRETS = new Map<string, Buffer>();
const MAX_SECRETS = 10_000;

/** A shared secret's UTF-8 bytes, kept so that each packet does not encode it again. */
export function secretBytes(secret: string): Buffer {
  let bytes = SECRETS.get(secret);
  if (!bytes) {
    if (SECRETS.size >= MAX_SECRETS) SECRETS.clear();
    bytes = Buffer.from(secret, 'utf8');
    SECRETS.set(secret, bytes);
  }
  return bytes;
}
