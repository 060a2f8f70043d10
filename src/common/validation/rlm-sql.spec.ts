import { rlmSqlUnsafeChar } from './rlm-sql';

describe('rlmSqlUnsafeChar', () => {
  it("passes FreeRADIUS's safe_characters (space included) and non-ASCII", () => {
    const safe = '@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /';
    expect(rlmSqlUnsafeChar(safe)).toBeNull();
    expect(rlmSqlUnsafeChar('ñandú 王伟 😀')).toBeNull();
  });

  it('finds the first ASCII character rlm_sql would write as =XX', () => {
    expect(rlmSqlUnsafeChar('Home 10M+')).toBe('+');
    expect(rlmSqlUnsafeChar('a(b),c')).toBe('(');
    for (const ch of '+(),&\'%"=#;\\!?*<>[]{}|~^$`') expect(rlmSqlUnsafeChar(`x${ch}`)).toBe(ch);
  });
});
