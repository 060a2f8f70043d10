import radius from 'radius';
import { loadRadiusDictionaries } from './dictionary';

describe('radius dictionaries', () => {
  it('encode and decode MikroTik attributes, e.g. Mikrotik-Rate-Limit', () => {
    loadRadiusDictionaries();
    const secret = 'test-secret';
    const packet = radius.encode({
      code: 'Accounting-Request',
      identifier: 7,
      secret,
      attributes: [['Vendor-Specific', 14988, [['Mikrotik-Rate-Limit', '5120k/10240k']]]],
    });
    const decoded = radius.decode({ packet, secret });
    expect(decoded.attributes['Vendor-Specific']).toEqual({
      'Mikrotik-Rate-Limit': '5120k/10240k',
    });
  });
});

describe('value names', () => {
  it('name what the RFC dictionaries of the radius package lack, as FreeRADIUS does', () => {
    loadRadiusDictionaries();
    const secret = 's';
    const packet = radius.encode({
      code: 'Accounting-Request',
      identifier: 1,
      secret,
      attributes: [
        ['NAS-Port-Type', 26],
        ['Framed-Protocol', 9],
      ],
    });
    const decoded = radius.decode({ packet, secret });
    expect(decoded.attributes['NAS-Port-Type']).toBe('FTTP');
    expect(decoded.attributes['Framed-Protocol']).toBe('PPTP');
  });
});
