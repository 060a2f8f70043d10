/**
 * A LIKE operand that matches `s` literally: '!' escapes LIKE's wildcards (use `ESCAPE '!'`),
 * because a backslash means different things in MySQL and SQLite string literals.
 */
export function likeLiteral(s: string): string {
  return s.replace(/[!%_]/g, (c) => `!${c}`);
}
