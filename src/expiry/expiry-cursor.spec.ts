import { decodeExpiryCursor, encodeExpiryCursor } from './expiry-cursor';

describe('expiringCustomers cursors', () => {
  it('round-trips expiresAt and id', () => {
    const c = { expiresAt: new Date('2026-12-03T10:00:00.123Z'), id: 42 };
    expect(decodeExpiryCursor(encodeExpiryCursor(c))).toEqual(c);
    expect(decodeExpiryCursor(null)).toBeNull();
    expect(decodeExpiryCursor('')).toBeNull();
  });

  it.each([
    'not a cursor!',
    Buffer.from('c:12').toString('base64url'),
    Buffer.from('exp:12').toString('base64url'),
    Buffer.from('exp:x:1').toString('base64url'),
  ])('refuses %s as BAD_USER_INPUT on after', (cursor) => {
    expect(() => decodeExpiryCursor(cursor)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'after' }),
    );
  });
});
