import { createHmac } from 'node:crypto';
import { decodeAccounting, encodeAccountingResponse, MAX_PACKET } from './accounting-request';
import { PacketDropError } from './packet-drop';
import { accountingRequest, resign, type Attribute } from '../../../test/support/radius-packets';
import { fuzzSeed, mutate, prng, randomPacket } from '../../../test/support/packet-fuzz';

const SECRET = 'fuzz-secret';
const SOURCE = '192.0.2.10';
const RECEIVED_AT = new Date('2026-01-02T03:04:05.678Z');
/** Mutants of valid packets, at least; random packets come on top. */
const MUTANTS = 100_000;
const RANDOM = 20_000;

const interim: Attribute[] = [
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
  ['Acct-Input-Octets', 123],
  ['Acct-Input-Gigawords', 5],
  ['Acct-Output-Octets', 0xffffffff],
  ['Acct-Output-Gigawords', 0x7fffffff],
];

/** An interim with Proxy-State and a right Message-Authenticator (RFC 3579), then signed. */
function signedWithMessageAuthenticator(): Buffer {
  const base = accountingRequest(SECRET, [...interim, ['Proxy-State', Buffer.from('ps-1')]], 4);
  const buf = Buffer.concat([base, Buffer.from([80, 18]), Buffer.alloc(16)]);
  buf.writeUInt16BE(buf.length, 2);
  const zeroed = Buffer.from(buf);
  zeroed.fill(0, 4, 20);
  createHmac('md5', SECRET)
    .update(zeroed)
    .digest()
    .copy(buf, base.length + 2);
  return resign(buf, SECRET);
}

const bases = [
  accountingRequest(SECRET, interim, 1),
  accountingRequest(
    SECRET,
    [
      ['Acct-Status-Type', 'Start'],
      ['User-Name', 'bob'],
      ['Acct-Session-Id', 'b0b'],
      ['Event-Timestamp', new Date(1_700_000_000_000)],
      ['Vendor-Specific', 14988, [['Mikrotik-Rate-Limit', '5120k/10240k']]],
    ],
    2,
  ),
  accountingRequest(
    SECRET,
    [
      ...interim.map(([n, v]): Attribute => (n === 'Acct-Status-Type' ? [n, 'Stop'] : [n, v])),
      ['Acct-Terminate-Cause', 'User-Request'],
      ['Framed-IPv6-Prefix', Buffer.from('004020010db800000001', 'hex')],
    ],
    3,
  ),
  accountingRequest(SECRET, [['Acct-Status-Type', 'Accounting-On']], 5),
  signedWithMessageAuthenticator(),
];

describe('the accounting decoder under fuzzing', () => {
  it(`decodes or drops (PacketDropError) ${MUTANTS} mutated and ${RANDOM} random packets, nothing else`, () => {
    const seed = fuzzSeed('accounting decoder fuzz');
    const int = prng(seed);
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const fail = (i: number, buf: Buffer, what: string) =>
      new Error(`seed ${seed}, case ${i}: ${buf.toString('hex')} ${what}`);
    const started = Date.now();
    // Stack traces are most of what a thrown drop costs, and nothing here reads them.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let i = 0; i < MUTANTS + RANDOM; i++) {
        let buf =
          i < MUTANTS
            ? mutate(bases[i % bases.length], int, { secret: SECRET, resignTenths: 8 })
            : randomPacket(int, SECRET);
        // Now and then an oversized datagram: trailing bytes past the length field.
        if (int(200) === 0) buf = Buffer.concat([buf, Buffer.alloc(MAX_PACKET + 1 - buf.length)]);
        let result;
        try {
          result = decodeAccounting(buf, SECRET, SOURCE, RECEIVED_AT);
        } catch (err) {
          if (err instanceof PacketDropError) {
            count(err.reason);
            if (buf.length > MAX_PACKET && err.reason !== 'malformed') {
              throw fail(i, buf, `is longer than ${MAX_PACKET} but was dropped as ${err.reason}`);
            }
            continue;
          }
          throw fail(i, buf, `threw ${String(err)} instead of a PacketDropError`);
        }
        if (buf.length > MAX_PACKET || buf.length < 20) {
          throw fail(i, buf, `of ${buf.length} bytes was decoded`);
        }
        count('decoded');
        // What the listener does with a decoded packet must not throw either.
        if (encodeAccountingResponse(result.packet, SECRET)[0] !== 5) {
          throw fail(i, buf, 'got a response that is no Accounting-Response');
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
        if (!ok) throw fail(i, buf, `gave ${JSON.stringify(r)}`);
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    // The fuzz reaches every stage: framing, the authenticator, and the decoder.
    for (const key of ['decoded', 'malformed', 'bad-authenticator', 'wrong-code']) {
      if ((outcomes.get(key) ?? 0) <= 100) {
        throw new Error(`seed ${seed}: only ${outcomes.get(key) ?? 0} ${key} outcomes`);
      }
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
