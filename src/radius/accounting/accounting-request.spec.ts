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

/** A raw attribute: type, length, value. */
function attr(type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, value.length + 2]), value]);
}

/** An Accounting-Request from raw attribute bytes, length field set and signed. */
function rawRequest(attributes: Buffer[], identifier = 9, code = 4): Buffer {
  const body = Buffer.concat(attributes);
  const packet = Buffer.concat([Buffer.from([code, identifier, 0, 0]), Buffer.alloc(16), body]);
  packet.writeUInt16BE(packet.length, 2);
  return resign(packet);
}

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

/** mulberry32: a small seeded PRNG, so a failing case can be reproduced from its seed. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Byte-level mutations of a valid packet: flip, insert, delete, truncate, bad lengths. */
function mutate(base: Buffer, int: (n: number) => number): Buffer {
  let b: Buffer = Buffer.from(base);
  const n = 1 + int(4);
  for (let k = 0; k < n; k++) {
    const pos = int(Math.max(1, b.length));
    switch (int(6)) {
      case 0:
        b[pos] ^= 1 << int(8);
        break;
      case 1:
        b[pos] = int(256);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from([int(256)]), b.subarray(pos)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + int(8))]);
        break;
      case 4:
        b = b.subarray(0, pos);
        break;
      default: {
        // Some attribute's length byte set to anything.
        let offset = 20;
        const target = int(12);
        for (let i = 0; i < target && offset + 1 < b.length && b[offset + 1] >= 2; i++) {
          offset += b[offset + 1];
        }
        if (offset + 1 < b.length) b[offset + 1] = int(256);
      }
    }
  }
  // Mostly keep the length field consistent and the authenticator right, so that the
  // mutation reaches the decoder instead of stopping at the framing or authenticator check.
  if (b.length >= 4 && int(10) < 7) b.writeUInt16BE(b.length, 2);
  if (b.length >= 20 && int(10) < 8) b = resign(b);
  return b;
}

const TYPES = [1, 4, 5, 8, 25, 26, 30, 31, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 52, 53, 55];
const MORE_TYPES = [61, 80, 87, 95, 96, 97, 123, 168];

/** A well-framed, well-signed packet of random attributes with random values. */
function randomPacket(int: (n: number) => number): Buffer {
  const bytes = (length: number) => {
    const b = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) b[i] = int(256);
    return b;
  };
  const attrs: Buffer[] = [];
  if (int(10) < 8) attrs.push(attr(40, Buffer.from([0, 0, 0, [1, 2, 3, 7, 8, 15, 99][int(7)]])));
  if (int(10) < 8) attrs.push(attr(44, bytes(1 + int(10))));
  for (let k = int(12); k > 0; k--) {
    const pick = int(3);
    const type = pick === 0 ? TYPES[int(TYPES.length)] : pick === 1 ? MORE_TYPES[int(8)] : int(256);
    let value: Buffer;
    if (type === 26 && int(10) < 7) {
      const vendor = [14988, 311, 9, 0, int(65536)][int(5)];
      const inner = bytes(int(12));
      const vsa = Buffer.from([0, 0, vendor >> 8, vendor & 255, int(30), inner.length + int(5)]);
      value = Buffer.concat([vsa, inner]);
    } else {
      value = bytes([0, 1, 2, 3, 4, 5, 6, 8, 16, 17, 18, int(40)][int(12)]);
    }
    attrs.push(attr(type, value.subarray(0, 253)));
  }
  return rawRequest(attrs, int(256));
}

describe('decodeAccounting on mutated packets', () => {
  const valid = [
    request(interim, 1),
    request(
      [
        ['Acct-Status-Type', 'Start'],
        ['User-Name', 'bob'],
        ['Acct-Session-Id', 'b0b'],
        ['Event-Timestamp', new Date(1_700_000_000_000)],
        ['Vendor-Specific', 14988, [['Mikrotik-Rate-Limit', '5120k/10240k']]],
      ],
      2,
    ),
    request(
      [
        ...interim.map(([n, v]): Attr => (n === 'Acct-Status-Type' ? [n, 'Stop'] : [n, v])),
        ['Acct-Terminate-Cause', 'User-Request'],
        ['Framed-IPv6-Prefix', Buffer.from('004020010db800000001', 'hex')],
      ],
      3,
    ),
  ];

  it('throws only PacketDropError, and a packet that passes decodes to a writable record (seed 20260101)', () => {
    const int = prng(20260101);
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const started = Date.now();
    // Stack traces are most of what a thrown drop costs, and nothing here reads them.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      fuzz();
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    function fuzz() {
      for (let i = 0; i < 100_000; i++) {
        const buf = i % 4 === 3 ? randomPacket(int) : mutate(valid[i % valid.length], int);
        let result;
        try {
          result = decode(buf);
        } catch (err) {
          if (err instanceof PacketDropError) {
            count(err.reason);
            continue;
          }
          throw new Error(
            `case ${i}: ${buf.toString('hex')} threw ${String(err)} instead of a PacketDropError`,
          );
        }
        count('decoded');
        // What the listener does with a decoded packet must not throw either.
        if (encodeAccountingResponse(result.packet, SECRET)[0] !== 5) {
          throw new Error(
            `case ${i}: ${buf.toString('hex')} got a response that is no Accounting-Response`,
          );
        }
        const r = result.record;
        if (r === null) continue;
        const ok =
          /^\d+$/.test(r.inputOctets) &&
          /^\d+$/.test(r.outputOctets) &&
          BigInt(r.inputOctets) < 2n ** 63n &&
          BigInt(r.outputOctets) < 2n ** 63n &&
          Number.isSafeInteger(r.eventTime) &&
          r.eventTime < 2 ** 31 &&
          (r.sessionTime === null || Number.isSafeInteger(r.sessionTime)) &&
          /^[0-9a-f]{32}$/.test(r.acctUniqueId) &&
          Object.values(r).every((v) => v === null || ['string', 'number'].includes(typeof v));
        if (!ok) throw new Error(`case ${i}: ${buf.toString('hex')} gave ${JSON.stringify(r)}`);
      }
    }
    // The fuzz reaches every stage: framing, the authenticator, and the decoder.
    for (const key of ['decoded', 'malformed', 'bad-authenticator', 'wrong-code']) {
      expect(outcomes.get(key)).toBeGreaterThan(100);
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
