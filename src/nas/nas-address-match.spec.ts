import { canonicalNasName, NasAddressMatcher, isNasNetwork } from './nas-address-match';
import { octetPrefix } from './nas.service';

describe('NasAddressMatcher', () => {
  const matcher = new NasAddressMatcher<string>([
    ['10.0.0.0/8', 'wide'],
    ['10.1.2.0/24', 'narrow'],
    ['10.1.2.7', 'own row'],
    ['2001:db8::/32', 'v6'],
    ['10.9.0.0/abc', 'broken'],
    ['not-an-ip/24', 'broken too'],
  ]);

  it('takes the address itself first, then the longest network holding it', () => {
    expect(matcher.find('10.1.2.7')).toBe('own row');
    expect(matcher.find('10.1.2.8')).toBe('narrow');
    expect(matcher.find('10.200.0.1')).toBe('wide');
    expect(matcher.find('::ffff:10.1.2.7')).toBe('own row');
    expect(matcher.find('2001:db8::5')).toBe('v6');
  });

  it('matches nothing outside, nor what is not an address, and sets bad networks aside', () => {
    expect(matcher.find('192.168.0.1')).toBeNull();
    expect(matcher.find('garbage')).toBeNull();
    expect(matcher.find('')).toBeNull();
    expect(matcher.invalid).toEqual(['broken', 'broken too']);
  });

  it('matches an address alone when no entry is a network', () => {
    const exact = new NasAddressMatcher([['10.0.0.1', 1]]);
    expect(exact.find('10.0.0.1')).toBe(1);
    expect(exact.find('10.0.0.2')).toBeNull();
  });

  it('isNasNetwork and octetPrefix', () => {
    expect(isNasNetwork('10.0.0.0/24')).toBe(true);
    expect(isNasNetwork('10.0.0.1')).toBe(false);
    expect(octetPrefix('10.1.2.0/24')).toBe('10.1.2.');
    expect(octetPrefix('10.1.0.0/20')).toBe('10.1.');
    expect(octetPrefix('10.1.2.3/32')).toBe('10.1.2.');
    expect(octetPrefix('10.0.0.0/7')).toBe('');
    expect(octetPrefix('2001:db8::/32')).toBe('');
  });

  it('matches a row written in another form of its address (adopted)', () => {
    const adopted = new NasAddressMatcher([['2001:DB8:0::99', 'v6 row']]);
    expect(adopted.find('2001:db8::99')).toBe('v6 row');
  });
});

describe('canonicalNasName', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['10.0.0.1/32', '10.0.0.1'],
    ['10.9.0.7/24', '10.9.0.0/24'],
    ['10.255.255.255/0', '0.0.0.0/0'],
    ['2001:DB8:0::1', '2001:db8::1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['2001:db8:ffff::1/35', '2001:db8:e000::/35'],
    ['::FFFF:10.0.0.1', '::ffff:10.0.0.1'],
  ])('%s is %s', (nasname, canonical) => {
    expect(canonicalNasName(nasname)).toBe(canonical);
  });

  it.each(['router-1', '10.0.0.0/33', '10.0.0.0/2x', '10.0.0.0/8/8', '::1/129', ''])(
    '%s is none',
    (nasname) => expect(canonicalNasName(nasname)).toBeNull(),
  );
});
