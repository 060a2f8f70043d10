import { BadUserInputError } from '../common/errors/app-error';
import { checkUsername } from './customer-rules';

describe('checkUsername', () => {
  it.each([
    'alice',
    'peter.wekesa66',
    'john_doe-2@isp.co.ke',
    'site:a/b',
    'josé',
    'ñandú@isp',
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
});
