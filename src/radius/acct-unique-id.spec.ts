import { createHash } from 'node:crypto';
import { acctUniqueId } from './acct-unique-id';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('acctUniqueId (FreeRADIUS acct_unique policy)', () => {
  it('hashes User-Name, Acct-Session-Id, NAS address, NAS-Identifier, NAS-Port-Id and NAS-Port', () => {
    expect(
      acctUniqueId({
        userName: 'alice',
        acctSessionId: '81a00001',
        nasIpAddress: '10.0.0.1',
        nasIdentifier: 'core-1',
        nasPortId: 'ether2',
        nasPort: 15728640,
      }),
    ).toBe(md5('alice,81a00001,10.0.0.1,core-1,ether2,15728640'));
  });

  it('prefers NAS-IPv6-Address and leaves missing attributes empty', () => {
    expect(
      acctUniqueId({
        userName: 'bob',
        acctSessionId: 's',
        nasIpAddress: '10.0.0.1',
        nasIpv6Address: '2001:db8::1',
      }),
    ).toBe(md5('bob,s,2001:db8::1,,,'));
  });

  it('uses the session id from an "ai:" Class when there is one', () => {
    const id = '0123456789abcdef0123456789abcdef';
    expect(
      acctUniqueId({ userName: 'x', acctSessionId: 'sess', classValue: Buffer.from(`ai:${id}`) }),
    ).toBe(md5(`${id},sess`));
    // Any other Class falls back to the attribute hash.
    expect(
      acctUniqueId({ userName: 'x', acctSessionId: 'sess', classValue: Buffer.from('other') }),
    ).toBe(md5('x,sess,,,,'));
  });

  it('hashes the bytes of the attributes (latin1 strings), up to the first NUL, as FreeRADIUS', () => {
    const bytes = (...parts: Buffer[]) =>
      createHash('md5').update(Buffer.concat(parts)).digest('hex');
    // "jos\xe9" is not UTF-8: its byte is hashed, not U+FFFD (which every such byte would be).
    expect(acctUniqueId({ userName: 'jos\xe9', acctSessionId: 's' })).toBe(
      bytes(Buffer.from([0x6a, 0x6f, 0x73, 0xe9]), Buffer.from(',s,,,,')),
    );
    expect(acctUniqueId({ userName: 'jos\xe8', acctSessionId: 's' })).not.toBe(
      acctUniqueId({ userName: 'jos\xe9', acctSessionId: 's' }),
    );
    // FreeRADIUS's md5 input is a C string: it ends at the NUL.
    expect(acctUniqueId({ userName: 'a\0b', acctSessionId: 's' })).toBe(md5('a'));
  });
});
