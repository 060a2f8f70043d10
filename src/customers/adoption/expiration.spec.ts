import { parseExpiration } from './expiration';

describe('parseExpiration', () => {
  it.each([
    ['01 Jan 2030 12:00:00', '2030-01-01T12:00:00.000Z'],
    ['January 1 2030', '2030-01-01T00:00:00.000Z'],
    ['Jan 1, 2030 23:59', '2030-01-01T23:59:00.000Z'],
    ['29 feb 2028', '2028-02-29T00:00:00.000Z'],
    ['1893499200', '2030-01-01T12:00:00.000Z'],
  ])('reads %j', (value, iso) => {
    expect(parseExpiration(value)?.toISOString()).toBe(iso);
  });

  it.each(['2026-13-45', '', 'soon', '31 Feb 2030', 'Jan 2030', '1 Foo 2030', '1 Jan 2030 25:00'])(
    'cannot read %j',
    (value) => {
      expect(parseExpiration(value)).toBeNull();
    },
  );
});
