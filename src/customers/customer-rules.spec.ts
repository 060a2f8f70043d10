import { BadUserInputError } from '../common/errors/app-error';
import {
  checkPassword,
  checkUsername,
  generatePassword,
  GENERATED_PASSWORD_LENGTH,
} from './customer-rules';

describe('checkUsername', () => {
  it.each([
    'alice',
    'peter.wekesa66',
    'john_doe-2@isp.co.ke',
    'site:a/b',
    'josé',
    'ñandú@isp.co.ke',
    '王伟',
  ])('accepts %s (kept as is by FreeRADIUS)', (name) => {
    expect(checkUsername('input.username', name)).toBe(name);
  });

  it.each(['kamau+tv', 'a,b', "o'brien", 'x=y', 'a#1', 'per%cent', 'back\\slash', 'semi;colon'])(
    'refuses %s, which FreeRADIUS would rewrite as =XX',
    (name) => {
      expect(() => checkUsername('input.username', name)).toThrow(BadUserInputError);
      expect(() => checkUsername('input.username', name)).toThrow(/FreeRADIUS/);
    },
  );

  it.each([
    ['kamau@isp', /domain with a dot/],
    ['a@b@isp.co.ke', /more than one "@"/],
    ['jane..doe', /"\.\."/],
    ['jane.', /end with "\."/],
    ['x@.isp.ke', /"\." right after/],
  ])("refuses %s, which FreeRADIUS's filter_username rejects", (name, why) => {
    expect(() => checkUsername('input.username', name)).toThrow(BadUserInputError);
    expect(() => checkUsername('input.username', name)).toThrow(why);
    expect(() => checkUsername('input.username', name)).toThrow(/filter_username/);
  });
});

describe('checkPassword', () => {
  it.each(['"Kahawa-2026"', "'Kahawa-2026'", '`Kahawa-2026`', '"', "''"])(
    'refuses %s, which FreeRADIUS would read without its quotes',
    (password) => {
      expect(() => checkPassword('input.password', password)).toThrow(BadUserInputError);
      expect(() => checkPassword('input.password', password)).toThrow(/quote/);
    },
  );

  it.each(['"Kahawa-2026', "Kahawa'2026'", '"Kahawa-2026\'', 'Ka"ha"wa', 'x%{User-Name}y'])(
    'accepts %s',
    (password) => {
      expect(checkPassword('input.password', password)).toBe(password);
    },
  );
});

describe('generatePassword', () => {
  it('makes valid, distinct passwords of 12 characters without look-alikes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[A-HJKMNP-Za-kmnp-z2-9]{12}$/);
      expect(p).toHaveLength(GENERATED_PASSWORD_LENGTH);
      expect(checkPassword('input.password', p)).toBe(p);
      seen.add(p);
    }
    expect(seen.size).toBe(2000);
  });

  it('uses every character of its alphabet about equally often', () => {
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++)
      for (const c of generatePassword()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(55);
    const expected = (n * GENERATED_PASSWORD_LENGTH) / 55;
    for (const count of counts.values())
      expect(Math.abs(count - expected) / expected).toBeLessThan(0.1);
  });
});
