import { randomBytes } from 'node:crypto';
import {
  checkAnswer,
  encodeCoaRequest,
  rateLimitAttribute,
  requestAuthenticator,
  responseAuthenticator,
  sessionAttributes,
  type CoaAnswer,
} from './coa-packet';

const SECRET = 's3cret';
const SESSION = { userName: 'alice', acctSessionId: '81a00001', framedIpAddress: '10.1.0.5' };

/**
 * Vectors computed by hand (Python's hashlib over the bytes spelled out below), not by the
 * code under test:
 *   Disconnect-Request, id 7: 28 07 002b | MD5(28 07 002b + 16 x 00 + attributes + "s3cret")
 *   User-Name "alice" 01 07 616c696365, Acct-Session-Id "81a00001" 2c 0a 3831613030303031,
 *   Framed-IP-Address 10.1.0.5 08 06 0a010005.
 */
const DISCONNECT_AUTH = '9badc788fa7500c7d0e149dd966059bd';
const DISCONNECT = Buffer.from(
  `2807002b${DISCONNECT_AUTH}0107616c6963652c0a383161303030303108060a010005`,
  'hex',
);
/** Its Disconnect-NAK with Error-Cause 503 (65 06 000001f7): MD5(2a 07 001a + request auth + attrs + secret). */
const NAK = Buffer.from('2a07001adb21ebc98e567587a6d30ec52c09a4006506000001f7', 'hex');
/**
 * CoA-Request, id 200, without Framed-IP-Address, with Vendor-Specific (1a 14) vendor 14988
 * (00003a8c), Mikrotik-Rate-Limit (08 0e) "5120k/10240k".
 */
const COA = Buffer.from(
  '2bc80039f7baf755cdecfdab6a019be3e431eaa20107616c6963652c0a38316130303030311a1400003a8c080e353132306b2f31303234306b',
  'hex',
);

/** Signs `response` as an answer to `request` (the formula is checked against NAK below). */
function signed(response: Buffer, request = DISCONNECT, secret = SECRET): Buffer {
  const out = Buffer.from(response);
  responseAuthenticator(out, request.subarray(4, 20), secret).copy(out, 4);
  return out;
}

describe('Request Authenticator (RFC 5176 §2.3)', () => {
  it('is MD5 over code, identifier, length, 16 zero octets, attributes and secret', () => {
    expect(requestAuthenticator(DISCONNECT, SECRET).toString('hex')).toBe(DISCONNECT_AUTH);
  });

  it('signs the Disconnect-Request the radius package encodes, byte for byte', () => {
    const packet = encodeCoaRequest('Disconnect-Request', 7, SECRET, sessionAttributes(SESSION));
    expect(packet.toString('hex')).toBe(DISCONNECT.toString('hex'));
  });

  it('signs a CoA-Request with Mikrotik-Rate-Limit, and leaves out a null Framed-IP-Address', () => {
    const packet = encodeCoaRequest('CoA-Request', 200, SECRET, [
      ...sessionAttributes({ ...SESSION, framedIpAddress: null }),
      rateLimitAttribute('5120k/10240k'),
    ]);
    expect(packet.toString('hex')).toBe(COA.toString('hex'));
    expect(requestAuthenticator(packet, SECRET)).toEqual(packet.subarray(4, 20));
  });

  it('carries no Message-Authenticator', () => {
    const packet = encodeCoaRequest('CoA-Request', 1, SECRET, sessionAttributes(SESSION));
    expect(packet.length).toBe(43); // the three attributes, nothing more
  });
});

describe('checkAnswer', () => {
  const nak: CoaAnswer = {
    code: 'Disconnect-NAK',
    ack: false,
    errorCause: 503,
    replyMessage: null,
  };

  it('computes the Response Authenticator of the hand-made vector', () => {
    expect(signed(NAK)).toEqual(NAK);
  });

  it('reads a Disconnect-NAK with its Error-Cause', () => {
    expect(checkAnswer(NAK, DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: true,
      answer: nak,
    });
  });

  it('ignores octets past Length (padding)', () => {
    const padded = Buffer.concat([NAK, Buffer.from([1, 2, 3])]);
    expect(checkAnswer(padded, DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: true,
      answer: nak,
    });
  });

  it('reads an ACK with Reply-Messages, joined', () => {
    const ack = signed(
      Buffer.concat([
        Buffer.from('2907001f', 'hex'),
        Buffer.alloc(16),
        Buffer.from([18, 5, ...Buffer.from('one'), 18, 6, ...Buffer.from('two!')]),
      ]),
    );
    expect(checkAnswer(ack, DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: true,
      answer: { code: 'Disconnect-ACK', ack: true, errorCause: null, replyMessage: 'one two!' },
    });
  });

  it('refuses a wrong secret, so a forged answer cannot pass', () => {
    const forged = signed(NAK, DISCONNECT, 'guess');
    expect(checkAnswer(forged, DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: false,
      reason: 'the Response Authenticator does not match (wrong secret?)',
    });
    // Signed with the right secret over another request's authenticator: a replay.
    expect(checkAnswer(signed(NAK, COA), DISCONNECT, 'Disconnect-Request', SECRET).ok).toBe(false);
  });

  it('refuses another identifier, or a code that does not answer the request', () => {
    const otherId = Buffer.from(NAK);
    otherId[1] = 8;
    expect(checkAnswer(signed(otherId), DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: false,
      reason: "identifier 8 is not the request's 7",
    });
    const coaNak = Buffer.from(NAK);
    coaNak[0] = 45;
    expect(checkAnswer(signed(coaNak), DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: false,
      reason: 'code 45 does not answer a Disconnect-Request',
    });
  });

  it('refuses malformed packets without throwing', () => {
    const check = (b: Buffer) => checkAnswer(b, DISCONNECT, 'Disconnect-Request', SECRET);
    expect(check(Buffer.alloc(0)).ok).toBe(false);
    expect(check(NAK.subarray(0, 19))).toEqual({ ok: false, reason: '19 bytes, less than 20' });
    expect(check(NAK.subarray(0, 25))).toEqual({
      ok: false,
      reason: 'Length 26 does not fit 25 bytes',
    });
    const overlong = Buffer.from(NAK);
    overlong[21] = 7; // the Error-Cause runs past the packet
    expect(check(signed(overlong))).toEqual({
      ok: false,
      reason: 'an attribute does not fit the packet',
    });
    const zero = Buffer.from(NAK);
    zero[21] = 0;
    expect(check(signed(zero)).ok).toBe(false);
    const short = Buffer.from(NAK);
    short.writeUInt16BE(19, 2);
    expect(check(short).ok).toBe(false);
  });

  it('leaves out an Error-Cause of the wrong size', () => {
    const odd = signed(Buffer.from('2a070019000000000000000000000000000000006505000001', 'hex'));
    expect(checkAnswer(odd, DISCONNECT, 'Disconnect-Request', SECRET)).toEqual({
      ok: true,
      answer: { ...nak, errorCause: null },
    });
  });

  it('never throws on random mutations, and passes none that the secret did not sign', () => {
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.from(NAK);
      const kind = i % 3;
      if (kind === 0) b[i % b.length] ^= 1 + (i % 255);
      const mutant =
        kind === 1 ? randomBytes(i % 64) : kind === 2 ? b.subarray(0, i % b.length) : b;
      const result = checkAnswer(mutant, DISCONNECT, 'Disconnect-Request', SECRET);
      expect(result.ok).toBe(false);
    }
  });
});

describe('request attributes', () => {
  it('are User-Name, Acct-Session-Id and Framed-IP-Address when known', () => {
    expect(sessionAttributes(SESSION)).toEqual([
      ['User-Name', 'alice'],
      ['Acct-Session-Id', '81a00001'],
      ['Framed-IP-Address', '10.1.0.5'],
    ]);
    expect(sessionAttributes({ ...SESSION, framedIpAddress: null })).toHaveLength(2);
  });

  it('refuse what the packet cannot carry', () => {
    expect(() => sessionAttributes({ ...SESSION, userName: '' })).toThrow('User-Name is empty');
    expect(() => sessionAttributes({ ...SESSION, acctSessionId: 'x'.repeat(254) })).toThrow(
      'Acct-Session-Id is 254 bytes, more than 253',
    );
    expect(() => sessionAttributes({ ...SESSION, framedIpAddress: '10.1.0.256' })).toThrow(
      'Framed-IP-Address "10.1.0.256" is not an IPv4 address',
    );
    expect(() => sessionAttributes({ ...SESSION, framedIpAddress: '' })).toThrow(
      'Framed-IP-Address is empty (null when the session has none)',
    );
    expect(() => sessionAttributes({ ...SESSION, framedIpAddress: '2001:db8::1' })).toThrow(
      'not an IPv4 address',
    );
    expect(() => rateLimitAttribute('')).toThrow('Mikrotik-Rate-Limit is empty');
    expect(() => rateLimitAttribute('1'.repeat(248))).toThrow('248 bytes, more than 247');
    expect(rateLimitAttribute('1'.repeat(247))).toBeDefined();
  });

  it('fit the packet at their largest', () => {
    const packet = encodeCoaRequest('CoA-Request', 1, SECRET, [
      ...sessionAttributes({ ...SESSION, userName: 'u'.repeat(253) }),
      rateLimitAttribute('r'.repeat(247)),
    ]);
    expect(requestAuthenticator(packet, SECRET)).toEqual(packet.subarray(4, 20));
    expect(packet.readUInt16BE(2)).toBe(packet.length);
  });
});
