import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import radius from 'radius';
import { loadRadiusDictionaries } from '../dictionary';

/**
 * The packets of RFC 5176 Dynamic Authorization as radgraph sends them to a NAS: the request
 * is encoded by the `radius` package (which signs Disconnect-Request and CoA-Request with the
 * RFC 5176 Request Authenticator); the answer is checked and read here, byte by byte, so a
 * malformed or forged answer is a reason to ignore it, never an exception.
 */

export type CoaRequestCode = 'Disconnect-Request' | 'CoA-Request';

/** The packet codes of RFC 5176 §3. */
const ANSWER_CODES: Record<CoaRequestCode, { ack: number; nak: number }> = {
  'Disconnect-Request': { ack: 41, nak: 42 },
  'CoA-Request': { ack: 44, nak: 45 },
};
const ANSWER_NAMES: Record<number, string> = {
  41: 'Disconnect-ACK',
  42: 'Disconnect-NAK',
  44: 'CoA-ACK',
  45: 'CoA-NAK',
};

const HEADER = 20;
const AUTH_START = 4;
const AUTH_END = 20;
const MAX_PACKET = 4096;
const REPLY_MESSAGE = 18;
const ERROR_CAUSE = 101;
/** An attribute's value holds at most 253 octets; a VSA's 247 (its header takes 6 more). */
const MAX_VALUE = 253;
const MAX_VSA_VALUE = 247;
/** Reply-Message text kept for a result message, at most. */
const MAX_REPLY_TEXT = 200;

export const MIKROTIK_VENDOR_ID = 14988;

/** Attributes as `radius.encode` takes them. */
export type CoaAttribute = [string, string] | ['Vendor-Specific', number, Array<[string, string]>];

/** The session a request names, as the NAS knows it. */
export interface SessionIdentity {
  userName: string;
  acctSessionId: string;
  framedIpAddress: string | null;
}

/** A request that cannot be encoded (what is wrong with it, never the secret). */
export class CoaInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoaInputError';
  }
}

function text(name: string, value: string, max = MAX_VALUE): string {
  const size = Buffer.byteLength(value, 'utf8');
  // The radius package leaves an empty string out of the packet without a word.
  if (size === 0) throw new CoaInputError(`${name} is empty`);
  if (size > max) throw new CoaInputError(`${name} is ${size} bytes, more than ${max}`);
  return value;
}

/**
 * User-Name, Acct-Session-Id and Framed-IP-Address (MikroTik finds the session by them; the
 * address is left out only when the session has none), then the extra attributes.
 */
export function sessionAttributes(session: SessionIdentity): CoaAttribute[] {
  const attributes: CoaAttribute[] = [
    ['User-Name', text('User-Name', session.userName)],
    ['Acct-Session-Id', text('Acct-Session-Id', session.acctSessionId)],
  ];
  if (session.framedIpAddress !== null) {
    // radacct holds '' for a session without an address: the caller says so with null.
    if (session.framedIpAddress === '') {
      throw new CoaInputError('Framed-IP-Address is empty (null when the session has none)');
    }
    if (!isIPv4(session.framedIpAddress)) {
      throw new CoaInputError(
        `Framed-IP-Address ${JSON.stringify(session.framedIpAddress)} is not an IPv4 address`,
      );
    }
    attributes.push(['Framed-IP-Address', session.framedIpAddress]);
  }
  return attributes;
}

/** Mikrotik-Rate-Limit (vendor 14988, attribute 8), e.g. "5120k/10240k". */
export function rateLimitAttribute(rateLimit: string): CoaAttribute {
  return [
    'Vendor-Specific',
    MIKROTIK_VENDOR_ID,
    [['Mikrotik-Rate-Limit', text('Mikrotik-Rate-Limit', rateLimit, MAX_VSA_VALUE)]],
  ];
}

/**
 * A Disconnect-Request or CoA-Request, signed with the RFC 5176 §2.3 Request Authenticator.
 * No Message-Authenticator: the `radius` package signs that one in the wrong order on these
 * codes, and a NAS does not need it.
 */
export function encodeCoaRequest(
  code: CoaRequestCode,
  identifier: number,
  secret: string,
  attributes: CoaAttribute[],
): Buffer {
  loadRadiusDictionaries();
  try {
    return radius.encode({
      code,
      identifier,
      secret,
      attributes,
      add_message_authenticator: false,
    });
  } catch (err) {
    throw new CoaInputError(`cannot encode the ${code}: ${(err as Error).message}`);
  }
}

function md5(packet: Buffer, secret: string): Buffer {
  return createHash('md5').update(packet).update(secret, 'utf8').digest();
}

/**
 * RFC 5176 §2.3: MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret), over
 * the packet's bytes up to its Length.
 */
export function requestAuthenticator(packet: Buffer, secret: string): Buffer {
  const zeroed = Buffer.from(packet);
  zeroed.fill(0, AUTH_START, AUTH_END);
  return md5(zeroed, secret);
}

/**
 * RFC 5176 §2.3 (as RFC 2865 §3): MD5(Code + Identifier + Length + Request Authenticator +
 * Attributes + Secret).
 */
export function responseAuthenticator(
  response: Buffer,
  requestAuth: Buffer,
  secret: string,
): Buffer {
  const copy = Buffer.from(response);
  requestAuth.copy(copy, AUTH_START, 0, AUTH_END - AUTH_START);
  return md5(copy, secret);
}

/** What an answer says, once it proved to answer the request. */
export interface CoaAnswer {
  /** "Disconnect-ACK", "CoA-NAK", ... */
  code: string;
  ack: boolean;
  /** Error-Cause (attribute 101), or null when the answer has none. */
  errorCause: number | null;
  /** The Reply-Message attributes, in order, joined by a space; null when there are none. */
  replyMessage: string | null;
}

export type AnswerCheck = { ok: true; answer: CoaAnswer } | { ok: false; reason: string };

/** The attributes of a packet of `length` bytes, or null when one does not fit. */
function attributesOf(packet: Buffer, length: number): Array<[number, Buffer]> | null {
  const out: Array<[number, Buffer]> = [];
  let offset = HEADER;
  while (offset < length) {
    if (offset + 2 > length) return null;
    const size = packet[offset + 1];
    if (size < 2 || offset + size > length) return null;
    out.push([packet[offset], packet.subarray(offset + 2, offset + size)]);
    offset += size;
  }
  return out;
}

/**
 * Checks that `data` answers `request` (the packet as sent): its size and Length, identifier,
 * an ACK or NAK code for the request's code, whole attributes and the Response Authenticator
 * (compared in constant time). Octets past Length are padding (RFC 2865 §3) and ignored.
 */
export function checkAnswer(
  data: Buffer,
  request: Buffer,
  code: CoaRequestCode,
  secret: string,
): AnswerCheck {
  if (data.length < HEADER) return { ok: false, reason: `${data.length} bytes, less than 20` };
  const length = data.readUInt16BE(2);
  if (length < HEADER || length > data.length || length > MAX_PACKET) {
    return { ok: false, reason: `Length ${length} does not fit ${data.length} bytes` };
  }
  if (data[1] !== request[1]) {
    return { ok: false, reason: `identifier ${data[1]} is not the request's ${request[1]}` };
  }
  const codes = ANSWER_CODES[code];
  if (data[0] !== codes.ack && data[0] !== codes.nak) {
    return { ok: false, reason: `code ${data[0]} does not answer a ${code}` };
  }
  const packet = data.subarray(0, length);
  const attributes = attributesOf(packet, length);
  if (!attributes) return { ok: false, reason: 'an attribute does not fit the packet' };
  const expected = responseAuthenticator(packet, request.subarray(AUTH_START, AUTH_END), secret);
  if (!timingSafeEqual(expected, packet.subarray(AUTH_START, AUTH_END))) {
    return { ok: false, reason: 'the Response Authenticator does not match (wrong secret?)' };
  }
  const cause = attributes.find(([type, value]) => type === ERROR_CAUSE && value.length === 4);
  const replies = attributes
    .filter(([type]) => type === REPLY_MESSAGE)
    .map(([, value]) => value.toString('utf8'));
  return {
    ok: true,
    answer: {
      code: ANSWER_NAMES[packet[0]],
      ack: packet[0] === codes.ack,
      errorCause: cause ? cause[1].readUInt32BE(0) : null,
      replyMessage: replies.length > 0 ? replies.join(' ').slice(0, MAX_REPLY_TEXT) : null,
    },
  };
}
