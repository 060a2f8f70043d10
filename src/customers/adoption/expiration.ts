const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/**
 * An rlm_expiration `Expiration` check item as another tool wrote it, read as UTC (as radgraph
 * reads every FreeRADIUS date: run the database and FreeRADIUS in UTC): Unix time in seconds
 * (what radgraph writes, "1893499200"), or a day, a month by name (whole or its first three
 * letters) and a year in either order with an optional time: "01 Jan 2030 12:00:00",
 * "January 1 2030", "Jan 1, 2030 23:59". Null when it is none of those, or no real date.
 */
export function parseExpiration(value: string): Date | null {
  const text = value.trim();
  if (/^\d{1,12}$/.test(text)) return new Date(Number(text) * 1000);
  const tokens = text.replace(/,/g, ' ').split(/\s+/).filter(Boolean);
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  let time: number[] | undefined;
  for (const t of tokens) {
    const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
    if (clock && time === undefined) {
      time = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    } else if (/^\d{4}$/.test(t) && year === undefined) {
      year = Number(t);
    } else if (/^\d{1,2}$/.test(t) && day === undefined) {
      day = Number(t);
    } else if (/^[a-z]{3,9}$/i.test(t) && month === undefined) {
      const i = MONTHS.findIndex((m) => m === t.toLowerCase() || m.slice(0, 3) === t.toLowerCase());
      if (i < 0) return null;
      month = i;
    } else {
      return null;
    }
  }
  if (day === undefined || month === undefined || year === undefined) return null;
  const [h, min, s] = time ?? [0, 0, 0];
  if (h > 23 || min > 59 || s > 59) return null;
  const at = new Date(Date.UTC(year, month, day, h, min, s));
  // 31 Feb would roll over into March: no such day.
  return at.getUTCDate() === day && at.getUTCMonth() === month ? at : null;
}
