import { createHmac } from 'node:crypto';
import {
  checkFraming,
  decodeAccounting,
  encodeAccountingResponse,
  formatIpv6,
  MAX_PACKET,
} from './accounting-request';
import { PacketDropError, type DropReason } from './packet-drop';
import { accountingRequest, resign as resignWith } from '../../../test/support/radius-packets';
import {
  rawAttribute as attr,
  rawRequest as rawRequestWith,
} from '../../../test/support/packet-fuzz';

const SECRET = 'unit-secret';
const SOURCE = '192.0.2.10';
const RECEIVED_AT = new Date('2026-01-02T03:04:05.678Z');

type Attr = [string, unknown] | [string, number, Array<[string, unknown]>];

function request(attributes: Attr[], identifier = 42, secret = SECRET): Buffer {
  return accountingRequest(secret, attributes, identifier);
}

/** The Request Authenticator again, after the test changed bytes (RFC 2866). */
function resign(packet: Buffer, secret = SECRET): Buffer {
  return resignWith(packet, secret);
}

/** An Accounting-Request from raw attribute bytes, length field set and signed. */
const rawRequest = (attributes: Buffer[], identifier = 9, code = 4): Buffer =>
  rawRequestWith(attributes, SECRET, identifier, code);

const interim: Attr[] = [
  ['Acct-Status-Type', 'Interim-Update'],
  ['User-Name', 'alice'],
  ['Acct-Session-Id', '81a00001'],
  ['NAS-IP-Address', '10.0.0.1'],
  ['NAS-Port', 15728640],
  ['NAS-Port-Id', 'ether2'],
  ['NAS-Port-Type', 'Ethernet'],
  ['Framed-IP-Address', '100.64.0.5'],
  ['Event-Timestamp', new Date(1_700_000_060_000)],
  ['Acct-Session-Time', 60],
  // 5 GiB + 123 bytes up; 2^63 - 1 (the largest a signed BIGINT column holds) down.
  ['Acct-Input-Octets', 123],
  ['Acct-Input-Gigawords', 5],
  ['Acct-Output-Octets', 0xffffffff],
  ['Acct-Output-Gigawords', 0x7fffffff],
];

function dropOf(fn: () => unknown): { reason: DropReason; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof PacketDropError) return { reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error('expected a PacketDropError, nothing was thrown');
}

const decode = (buf: Buffer, secret = SECRET) => decodeAccounting(buf, secret, SOURCE, RECEIVED_AT);

describe('checkFraming', () => {
  const valid = request(interim);

  it('accepts a well-formed Accounting-Request', () => {
    expect(() => checkFraming(valid)).not.toThrow();
  });

  it.each([
    ['an empty datagram', Buffer.alloc(0)],
    ['19 bytes', valid.subarray(0, 19)],
    ['more than 4096 bytes', Buffer.concat([valid, Buffer.alloc(MAX_PACKET + 1 - valid.length)])],
  ])('drops %s as malformed', (_name, buf) => {
    expect(dropOf(() => checkFraming(buf)).reason).toBe('malformed');
  });

  it('drops a packet cut short of its length field', () => {
    expect(dropOf(() => checkFraming(valid.subarray(0, valid.length - 3)))).toEqual({
      reason: 'malformed',
      message: `length field ${valid.length} does not fit a ${valid.length - 3}-byte packet`,
    });
  });

  it('drops a length field larger than the datagram, or smaller than 20', () => {
    for (const length of [valid.length + 1, 0xffff, 19, 0]) {
      const buf = Buffer.from(valid);
      buf.writeUInt16BE(length, 2);
      expect(dropOf(() => checkFraming(buf)).reason).toBe('malformed');
    }
  });

  it('ignores bytes past the length field (RFC 2865: padding)', () => {
    expect(() => checkFraming(Buffer.concat([valid, Buffer.from('padding')]))).not.toThrow();
  });

  it('accepts exactly 20 bytes: a header without attributes', () => {
    const header = rawRequest([]);
    expect(header.length).toBe(20);
    expect(() => checkFraming(header)).not.toThrow();
  });

  it('drops 4097 bytes even when the length field is valid', () => {
    const buf = rawRequest([attr(40, Buffer.from([0, 0, 0, 3]))]);
    const padded = Buffer.concat([buf, Buffer.alloc(MAX_PACKET + 1 - buf.length)]);
    expect(dropOf(() => checkFraming(padded))).toEqual({
      reason: 'malformed',
      message: 'packet of 4097 bytes is longer than 4096',
    });
  });

  it('accepts exactly 4096 bytes', () => {
    const filler = Array.from({ length: 15 }, () => attr(26, Buffer.alloc(253 - 2)));
    const buf = rawRequest([...filler]);
    const padded = Buffer.concat([buf, Buffer.alloc(MAX_PACKET - buf.length)]);
    expect(padded.length).toBe(MAX_PACKET);
    expect(() => checkFraming(padded)).not.toThrow();
  });

  it.each([
    ['Access-Request', 1],
    ['Access-Accept', 2],
    ['Accounting-Response', 5],
    ['CoA-Request', 43],
    ['Disconnect-Request', 40],
  ])('drops an %s (code %i) as wrong-code', (_name, code) => {
    const buf = Buffer.from(valid);
    buf[0] = code;
    expect(dropOf(() => checkFraming(buf)).reason).toBe('wrong-code');
  });

  it('checks the size before the code: 19 bytes of Access-Request are malformed', () => {
    const buf = Buffer.from(valid.subarray(0, 19));
    buf[0] = 1;
    expect(dropOf(() => checkFraming(buf)).reason).toBe('malformed');
  });

  it.each([
    ['length 0', Buffer.from([1, 0, 0x61])],
    ['length 1', Buffer.from([1, 1, 0x61])],
    ['a length past the packet', Buffer.from([1, 9, 0x61, 0x62])],
    ['a lone type byte at the end', Buffer.from([44])],
  ])('drops an attribute with %s', (_name, bad) => {
    const buf = rawRequest([attr(40, Buffer.from([0, 0, 0, 3])), bad]);
    expect(dropOf(() => checkFraming(buf)).reason).toBe('malformed');
  });

  it('drops an attribute that runs past the length field though the datagram is longer', () => {
    const buf = rawRequest([attr(40, Buffer.from([0, 0, 0, 3])), attr(1, Buffer.from('bob'))]);
    const short = Buffer.from(buf);
    short.writeUInt16BE(buf.length - 2, 2); // the last attribute now crosses the length field
    expect(dropOf(() => checkFraming(short)).reason).toBe('malformed');
  });
});

describe('decodeAccounting', () => {
  it('decodes an Interim-Update, the octets exact with Gigawords', () => {
    const { packet, record } = decode(request(interim));
    expect(packet.code).toBe('Accounting-Request');
    expect(record).toMatchObject({
      status: 'Interim-Update',
      username: 'alice',
      acctSessionId: '81a00001',
      nasIpAddress: '10.0.0.1',
      nasPortId: 'ether2',
      nasPortType: 'Ethernet',
      framedIpAddress: '100.64.0.5',
      eventTime: 1_700_000_060,
      sessionTime: 60,
      inputOctets: String(5n * 2n ** 32n + 123n),
      outputOctets: '9223372036854775807',
    });
    expect(record?.acctUniqueId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('drops what radacct cannot hold: octets past 2^63 - 1, an Event-Timestamp past 2038', () => {
    const attrs: Attr[] = [
      ...interim.filter(([n]) => !n.startsWith('Acct-Input')),
      ['Acct-Input-Octets', 0],
      ['Acct-Input-Gigawords', 0x80000000],
    ];
    expect(dropOf(() => decode(request(attrs))).reason).toBe('malformed');
    const late: Attr[] = [
      ...interim.filter(([n]) => n !== 'Event-Timestamp'),
      ['Event-Timestamp', new Date(2 ** 31 * 1000)],
    ];
    expect(dropOf(() => decode(request(late))).reason).toBe('malformed');
    const last: Attr[] = [
      ...interim.filter(([n]) => n !== 'Event-Timestamp'),
      ['Event-Timestamp', new Date((2 ** 31 - 1) * 1000)],
    ];
    expect(decode(request(last)).record?.eventTime).toBe(2 ** 31 - 1);
  });

  it('drops a packet signed with another secret as bad-authenticator', () => {
    expect(dropOf(() => decode(request(interim, 1, 'other-secret'))).reason).toBe(
      'bad-authenticator',
    );
  });

  it('drops a packet whose authenticator is right for other bytes', () => {
    const buf = request(interim);
    buf[buf.length - 1] ^= 1;
    expect(dropOf(() => decode(buf)).reason).toBe('bad-authenticator');
  });

  it('verifies over the length field only: trailing padding is ignored', () => {
    const buf = Buffer.concat([request(interim), Buffer.from([0, 0, 0, 0])]);
    expect(decode(buf).record?.username).toBe('alice');
  });

  describe('Message-Authenticator', () => {
    function withMessageAuthenticator(key: string, length = 18): Buffer {
      const base = request(interim);
      const ma = Buffer.alloc(length);
      ma[0] = 80;
      ma[1] = length;
      const buf = Buffer.concat([base, ma]);
      buf.writeUInt16BE(buf.length, 2);
      if (length === 18) {
        // RFC 3579 over the packet with the authenticator and itself zeroed (as FreeRADIUS).
        const zeroed = Buffer.from(buf);
        zeroed.fill(0, 4, 20);
        createHmac('md5', key)
          .update(zeroed)
          .digest()
          .copy(buf, base.length + 2);
      }
      return resign(buf);
    }

    it('accepts a right one', () => {
      expect(decode(withMessageAuthenticator(SECRET)).record?.status).toBe('Interim-Update');
    });

    it('drops a wrong one as bad-authenticator', () => {
      expect(dropOf(() => decode(withMessageAuthenticator('nope'))).reason).toBe(
        'bad-authenticator',
      );
    });

    it('drops one that is not 16 bytes as malformed', () => {
      expect(dropOf(() => decode(withMessageAuthenticator(SECRET, 10))).reason).toBe('malformed');
    });
  });

  it('drops a packet without Acct-Status-Type, or a session packet without Acct-Session-Id', () => {
    const noStatus = interim.filter(([n]) => n !== 'Acct-Status-Type');
    expect(dropOf(() => decode(request(noStatus)))).toEqual({
      reason: 'malformed',
      message: 'no Acct-Status-Type',
    });
    const start: Attr[] = [
      ['Acct-Status-Type', 'Start'],
      ['User-Name', 'alice'],
    ];
    expect(dropOf(() => decode(request(start)))).toEqual({
      reason: 'malformed',
      message: 'Start without Acct-Session-Id',
    });
  });

  it('answers, but writes nothing for, a status radacct has no query for (Failed)', () => {
    const { packet, record } = decode(request([['Acct-Status-Type', 'Failed']]));
    expect(record).toBeNull();
    const response = encodeAccountingResponse(packet, SECRET);
    expect(response[0]).toBe(5);
    expect(response[1]).toBe(packet.identifier);
  });

  it('decodes Accounting-On without a session id; NAS-IP-Address is the source when absent', () => {
    const { record } = decode(request([['Acct-Status-Type', 'Accounting-On']]));
    expect(record).toMatchObject({
      status: 'Accounting-On',
      nasIpAddress: SOURCE,
      acctSessionId: '',
      // No Event-Timestamp: the time the packet arrived.
      eventTime: Math.floor(RECEIVED_AT.getTime() / 1000),
    });
  });

  it('takes the IPv4 source as NAS-IP-Address even beside NAS-IPv6-Address (preprocess)', () => {
    const attrs = rawRequest([
      attr(40, Buffer.from([0, 0, 0, 1])),
      attr(44, Buffer.from('s1')),
      attr(95, Buffer.from('20010db8000000000000000000000001', 'hex')),
    ]);
    expect(decode(attrs).record?.nasIpAddress).toBe(SOURCE);
    const fromIpv6 = decodeAccounting(attrs, SECRET, '2001:db8::9', RECEIVED_AT);
    expect(fromIpv6.record?.nasIpAddress).toBe('');
  });

  it('takes NAS-Port-Id, else NAS-Port, else nothing', () => {
    const noPortId = interim.filter(([n]) => n !== 'NAS-Port-Id');
    expect(decode(request(noPortId)).record?.nasPortId).toBe('15728640');
    const noPort = noPortId.filter(([n]) => n !== 'NAS-Port');
    expect(decode(request(noPort)).record?.nasPortId).toBe('');
  });

  it('prints the IPv6 attributes as FreeRADIUS does', () => {
    const prefix = (bits: number, hex: string) =>
      Buffer.concat([Buffer.from([0, bits]), Buffer.from(hex, 'hex')]);
    const buf = rawRequest([
      attr(40, Buffer.from([0, 0, 0, 3])),
      attr(44, Buffer.from('s6')),
      attr(168, Buffer.from('20010db8000000000000000000000005', 'hex')),
      attr(97, prefix(64, '20010db8000a0000')), // shortened: the rest is zero
      attr(96, Buffer.from('0200000000000001', 'hex')),
      attr(123, prefix(56, '20010db8ff000000000000000000000')),
    ]);
    expect(decode(buf).record).toMatchObject({
      framedIpv6Address: '2001:db8::5',
      framedIpv6Prefix: '2001:db8:a::/64',
      framedInterfaceId: '200:0:0:1',
      delegatedIpv6Prefix: '2001:db8:ff00::/56',
    });
  });

  it('leaves out an attribute its type cannot hold and keeps the packet, as FreeRADIUS does', () => {
    const good = request(interim);
    // NAS-Port (5) with 3 bytes: the radius package cannot read it as an integer.
    const broken = Buffer.concat([good, attr(5, Buffer.from([1, 2, 3]))]);
    broken.writeUInt16BE(broken.length, 2);
    const { record } = decodeAccounting(resign(broken), SECRET, SOURCE, RECEIVED_AT);
    expect(record).toMatchObject({ username: 'alice', inputOctets: expect.any(String) });
  });

  it('ignores IPv6 attributes of the wrong size instead of printing garbage', () => {
    const buf = rawRequest([
      attr(40, Buffer.from([0, 0, 0, 3])),
      attr(44, Buffer.from('s7')),
      attr(168, Buffer.from('20010db8', 'hex')),
      attr(97, Buffer.from([0, 200, 0x20, 0x01])), // prefix length 200 > 128
      attr(96, Buffer.from('0200', 'hex')),
    ]);
    expect(decode(buf).record).toMatchObject({
      framedIpv6Address: '',
      framedIpv6Prefix: '',
      framedInterfaceId: '',
    });
  });
});

describe('formatIpv6 (inet_ntop, as FreeRADIUS prints addresses)', () => {
  it.each([
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['00010000000000000000000000000000', '1::'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    // A single zero group is not compressed.
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    // Of two equal runs, the first is compressed.
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    // The longest run wins, wherever it is.
    ['20010db8000000010000000000010001', '2001:db8:0:1::1:1'],
    ['fe80000000000000021122fffe334455', 'fe80::211:22ff:fe33:4455'],
    ['ffffffffffffffffffffffffffffffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    // IPv4-mapped and IPv4-compatible: the last 32 bits dotted (glibc's inet_ntop).
    ['00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
    ['00000000000000000000ffff00000000', '::ffff:0.0.0.0'],
    ['00000000000000000000000001020304', '::1.2.3.4'],
    ['00000000000000000000000000010000', '::0.1.0.0'],
  ])('%s is %s', (hex, text) => {
    expect(formatIpv6(Buffer.from(hex, 'hex'))).toBe(text);
  });

  it('pads a shorter (prefix) value with zeros', () => {
    expect(formatIpv6(Buffer.from('20010db8', 'hex'))).toBe('2001:db8::');
    expect(formatIpv6(Buffer.alloc(0))).toBe('::');
  });
});
