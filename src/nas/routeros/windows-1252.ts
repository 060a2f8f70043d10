/**
 * Windows-1252, the encoding node-routeros writes every word in (iconv-lite's `win1252`), and
 * so the one RouterOS API replies are read in. Node 20's TextDecoder('windows-1252') is no
 * help: it decodes 0x80-0x9F as ISO-8859-1's C1 controls (0x80 as U+0080, not "€").
 */

/** 0x80-0x9F as Windows-1252 has them (WHATWG's table; its five undefined bytes as C1 controls). */
const HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
].map((code) => String.fromCharCode(code));

/** Bytes of Windows-1252 as text. */
export function decodeWindows1252(bytes: Buffer): string {
  // latin1 is byte = code point, right but for 0x80-0x9F.
  return bytes.toString('latin1').replace(/[\x80-\x9f]/g, (c) => HIGH[c.charCodeAt(0) - 0x80]);
}

/** Every character Windows-1252 can carry (C1 controls too: refuse those apart). */
export const WINDOWS_1252_CHARACTERS: ReadonlySet<string> = new Set(
  decodeWindows1252(Buffer.from(Array.from({ length: 256 }, (_, i) => i))),
);
