import { createHash, createHmac } from 'node:crypto';
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

/** What the listener reads of a packet: the attributes it knows by name, and all of them raw. */
export interface RadiusPacket {
  code: string;
  identifier: number;
  length: number;
  authenticator: Buffer;
  attributes: Record<string, unknown>;
  raw_attributes: Array<[number, Buffer]>;
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
  const raw: Array<[number, Buffer]> = [];
  const length = data.readUInt16BE(2);
  for (let offset = 20; offset + 2 <= length;) {
    const type = data[offset];
    const attrLength = data[offset + 1];
    const value = data.subarray(offset + 2, offset + attrLength);
    offset += attrLength;
    raw.push([type, value]);
    const known = KNOWN[type];
    if (!known) continue;
    const [name, kind] = known;
    let decoded: unknown;
    switch (kind) {
      case 'string':
        decoded = value.toString('utf8');
        break;
      case 'octets':
        decoded = value;
        break;
      case 'ipaddr':
        if (value.length !== 4) continue;
        decoded = `${value[0]}.${value[1]}.${value[2]}.${value[3]}`;
        break;
      case 'date':
        if (value.length !== 4) continue;
        decoded = new Date(value.readUInt32BE(0) * 1000);
        break;
      case 'integer': {
        if (value.length !== 4) continue;
        const n = value.readUInt32BE(0);
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
    authenticator: Buffer.from(data.subarray(4, 20)),
    attributes,
    raw_attributes: raw,
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
  const parts: Buffer[] = [];
  for (const [type, value] of request.raw_attributes) {
    if (type === PROXY_STATE) parts.push(Buffer.from([type, value.length + 2]), value);
  }
  const signed = request.raw_attributes.some(([type]) => type === MESSAGE_AUTHENTICATOR);
  if (signed) parts.push(Buffer.from([MESSAGE_AUTHENTICATOR, 18]), Buffer.alloc(16));
  const response = Buffer.concat([Buffer.alloc(20), ...parts]);
  response[0] = ACCOUNTING_RESPONSE;
  response[1] = request.identifier;
  response.writeUInt16BE(response.length, 2);
  request.authenticator.copy(response, 4);
  if (signed) {
    const mac = createHmac('md5', secret).update(response).digest();
    mac.copy(response, response.length - 16);
  }
  createHash('md5').update(response).update(secret, 'utf8').digest().copy(response, 4);
  return response;
}
