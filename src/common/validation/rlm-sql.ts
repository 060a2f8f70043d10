/**
 * ASCII outside FreeRADIUS's safe_characters (the stock queries.conf:
 * "@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /"). rlm_sql writes such a
 * character into its queries as "=XX" (auto_escape off), so a User-Name or a group name that has
 * one never matches its rows: `'%{SQL-Group}'` for "Home 10M+" looks for "Home 10M=2B".
 * Multi-byte UTF-8 characters pass through rlm_sql unchanged. Control characters count as
 * unsafe here too (the text rules refuse them before this runs). See radius-config/README.md,
 * "Escaping".
 */
const UNSAFE_ASCII = /[^\u0080-\u{10FFFF}@a-zA-Z0-9.\-_:/ ]/u;

/** What FreeRADIUS keeps as is besides letters and digits, for messages. */
export const RLM_SQL_SAFE_PUNCTUATION = '@ . - _ : /';

/**
 * The first character of `value` that FreeRADIUS's SQL module would rewrite as "=XX", or null
 * when it expands `value` unchanged (letters, digits, space, @ . - _ : /, and non-ASCII).
 */
export function rlmSqlUnsafeChar(value: string): string | null {
  return UNSAFE_ASCII.exec(value)?.[0] ?? null;
}
