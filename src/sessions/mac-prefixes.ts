// Pure (no Node or database imports): the operator console (src/console/web) bundles it too,
// so that its live table matches a session to a search exactly as onlineSessions does.

/**
 * The ways the start of a MAC address may be written: as given, and, when the term is hex
 * digits alone, hex pairs each followed by the same ':' or '-', or Cisco's groups of four
 * followed by '.', also in each of the other notations ("5c-e8-83", "5ce883", "5ce8.83" and
 * "5c:e8:83" find the same sessions; NAS devices write Calling-Station-Id any of these ways).
 */
export function macPrefixes(term: string): string[] {
  const bare = /^[0-9a-f]{1,12}$/i.test(term);
  const separated = /^[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){0,4}[0-9a-f]{0,2}$/i.test(term);
  const dotted = /^(?:[0-9a-f]{4}\.){1,2}[0-9a-f]{0,4}$/i.test(term);
  if (!bare && !separated && !dotted) return [term];
  const hex = term.replace(/[:.-]/g, '');
  const pairs = hex.match(/[0-9a-f]{1,2}/gi) ?? [];
  const trailing = /[:-]$/.test(term) ? 1 : 0;
  const joined = (sep: string) => pairs.join(sep) + sep.repeat(trailing);
  const quads = (hex.match(/[0-9a-f]{1,4}/gi) ?? []).join('.');
  return [...new Set([term, joined(':'), joined('-'), hex, quads])];
}
