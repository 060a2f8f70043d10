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
