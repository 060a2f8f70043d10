import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { yieldToEventLoop } from '../../common/async/event-loop-slices';
import { BadUserInputError } from '../../common/errors/app-error';

/**
 * The customers CSV (importCustomers, exportCustomers, `radgraph customers import|export`):
 * RFC 4180, UTF-8 (a BOM is accepted), a header line, one customer a line.
 *
 *   account_no  RG-7KQ2-M9XD; empty on import: kept, or generated for a new customer
 *   username    the PPPoE login; what a row is matched on
 *   password    write-only: never exported; empty on import: kept, or generated for a new one
 *   phone, name optional details; empty clears them
 *   profile     the profile's name; empty on import: kept (required for a new customer)
 *   expires     ISO 8601 in UTC as exported (2026-12-31T23:59:59Z); on import also
 *               2026-12-31 (00:00 UTC), 2026-12-31 23:59 and offsets (+03:00); `never` for
 *               no expiry; empty: kept, or the profile's validity from now for a new customer
 *   version     which version of the customer the export wrote (rg_customers.version); on
 *               import, a row that would change a customer changed since is refused. Without
 *               the column (or empty in a row) nothing is compared: the row is written as it is
 */
export const CSV_COLUMNS = [
  'account_no',
  'username',
  'password',
  'phone',
  'name',
  'profile',
  'expires',
  'version',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Other spellings of the headers, as other systems and spreadsheets write them. */
const ALIASES: Record<string, CsvColumn> = {
  account: 'account_no',
  account_number: 'account_no',
  accountno: 'account_no',
  user: 'username',
  login: 'username',
  pppoe_username: 'username',
  pass: 'password',
  phone_number: 'phone',
  mobile: 'phone',
  full_name: 'name',
  plan: 'profile',
  package: 'profile',
  expires_at: 'expires',
  expiry: 'expires',
  expiration: 'expires',
  expiry_date: 'expires',
  row_version: 'version',
};

/** A data line of the file: its line number (the header is line 1) and its cells by column. */
export interface CsvRow {
  line: number;
  cells: Partial<Record<CsvColumn, string>>;
  /** Set when the line has more or fewer cells than the header. */
  fieldCountError?: string;
}

export interface CsvHeader {
  columns: Array<CsvColumn | null>;
  /** Header cells that name no column radgraph knows: their cells are ignored. */
  ignored: string[];
}

const normalize = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[\s\-.]+/g, '_');

/** The header line: every column at most once, and username among them. */
export function readHeader(cells: string[]): CsvHeader {
  const seen = new Set<CsvColumn>();
  const ignored: string[] = [];
  const columns = cells.map((raw) => {
    const key = normalize(raw);
    const column = (CSV_COLUMNS as readonly string[]).includes(key)
      ? (key as CsvColumn)
      : (ALIASES[key] ?? null);
    if (column === null) {
      if (raw.trim() !== '') ignored.push(raw.trim());
      return null;
    }
    if (seen.has(column)) {
      throw new BadUserInputError('csv', `Line 1: the column "${column}" appears twice`);
    }
    seen.add(column);
    return column;
  });
  if (!seen.has('username')) {
    throw new BadUserInputError(
      'csv',
      `Line 1 must be a header naming the columns, username among them: ${CSV_COLUMNS.join(',')}`,
    );
  }
  return { columns, ignored };
}

/** What csv-parse gives for each record, with `raw` on. */
interface ParsedRecord {
  record: string[];
  raw: string;
}

/**
 * The rows of a CSV text or stream, after its header. A line's number is the line its record
 * starts on, so a quoted cell that spans lines does not shift the numbers after it. A broken
 * file (a quote never closed) is BAD_USER_INPUT naming its line; a line with the wrong number
 * of cells is a row with fieldCountError, reported with the other rows' errors.
 */
export async function* readCsv(
  source: string | AsyncIterable<Buffer | string>,
  onHeader: (header: CsvHeader) => void,
): AsyncGenerator<CsvRow> {
  // The header's cells as parsed, to name the column of a parse error even when it comes
  // before this loop has read the header.
  let headerCells: string[] | null = null;
  const parser = parse({
    bom: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    on_record: (item) => {
      // With raw on, csv-parse's typing notwithstanding, this is a ParsedRecord.
      headerCells ??= (item as unknown as ParsedRecord).record;
      return item;
    },
  });
  // The source goes through pipeline(), which ends it when the parser stops early (a bad
  // header, broken quoting) instead of leaving it waiting for a drain that never comes. A text
  // goes in slices: csv-parse parses what it is given in one go.
  const fed = pipeline(
    Readable.from(typeof source === 'string' ? slices(source) : source),
    parser,
  ).catch(() => undefined);
  let header: CsvHeader | null = null;
  let seen = 0;
  try {
    for await (const item of parser as AsyncIterable<ParsedRecord>) {
      const { record, raw } = item;
      // The line the record starts on: the line breaks of every record before it (their raw
      // text holds the blank lines skipped before them), and the blank ones that lead its own.
      const leading = /^(?:\r\n|\r|\n)*/.exec(raw)![0];
      const line = 1 + seen + countBreaks(leading);
      seen += countBreaks(raw);
      if (header === null) {
        header = readHeader(record);
        onHeader(header);
        continue;
      }
      const cells: CsvRow['cells'] = {};
      header.columns.forEach((column, i) => {
        if (column !== null && record[i] !== undefined) cells[column] = record[i];
      });
      const row: CsvRow = { line, cells };
      if (record.length !== header.columns.length) {
        row.fieldCountError = `Line ${line} has ${record.length} cells; the header has ${header.columns.length}`;
      }
      yield row;
    }
  } catch (err) {
    if (err instanceof CsvError) throw notValidCsv(err, headerCells);
    throw err;
  } finally {
    parser.destroy();
    await fed;
  }
  if (header === null) {
    throw new BadUserInputError('csv', 'The file is empty: it needs a header line and rows');
  }
}

const countBreaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0;

/** Characters of a text csv-parse is given at once: a few milliseconds of parsing. */
export const TEXT_SLICE = 32 * 1024;

/**
 * A text in slices of TEXT_SLICE characters, letting the event loop run between them. A cut
 * may fall anywhere in a line (csv-parse reads a stream's chunks so), but never between the
 * halves of a surrogate pair: each slice becomes UTF-8 on its own.
 */
async function* slices(text: string): AsyncGenerator<string> {
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + TEXT_SLICE, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    yield text.slice(at, end);
    at = end;
    if (at < text.length) await yieldToEventLoop();
  }
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** What broke, by csv-parse's error code, in words that quote nothing of the file. */
const CSV_PROBLEMS: Record<string, string> = {
  INVALID_OPENING_QUOTE:
    'a quote inside a cell that does not start with one (quote the whole cell and double each quote inside it)',
  CSV_INVALID_CLOSING_QUOTE:
    'a quoted cell goes on after its closing quote (double each quote inside a quoted cell)',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE:
    'a quoted cell goes on after its closing quote (double each quote inside a quoted cell)',
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed: the file ends inside it',
  CSV_MAX_RECORD_SIZE: 'a line is too long',
};

/**
 * BAD_USER_INPUT for a file csv-parse cannot read, naming the line and the column. Never with
 * csv-parse's own message: that quotes the cell it stopped in ('value is "Pa55"'), which may
 * be part of a password.
 */
function notValidCsv(err: CsvError, headerCells: string[] | null): BadUserInputError {
  const { lines, index } = err as CsvError & { lines?: unknown; index?: unknown };
  const line = typeof lines === 'number' ? lines : '?';
  let column = '';
  if (typeof index === 'number') {
    let name: CsvColumn | null | undefined;
    try {
      name = headerCells ? readHeader(headerCells).columns[index] : null;
    } catch {
      name = null; // not a header radgraph reads: the cell's number will do
    }
    column = name ? `, column ${name}` : `, cell ${index + 1}`;
  }
  const problem = CSV_PROBLEMS[err.code] ?? `the file is malformed (${err.code})`;
  return new BadUserInputError(
    'csv',
    `The file is not valid CSV near line ${line}${column}: ${problem}`,
  );
}

// --- Values -----------------------------------------------------------------

/**
 * A cell a spreadsheet would run as a formula (= + - @, a tab or CR first), behind any number
 * of guarding apostrophes.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/**
 * Free text as a cell (a name, a profile's name): one that a spreadsheet would run as a
 * formula gets a leading apostrophe, and so does one that already starts with apostrophes
 * before such a character; fromTextCell takes exactly one off, so the file reads back exactly.
 */
export function textCell(value: string | null): string {
  if (value === null) return '';
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The value of a free-text cell written by textCell: without its guarding apostrophe. */
export function fromTextCell(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

/** `expires` as exported: ISO 8601 in UTC to the second (MySQL keeps no more). */
export function expiresCell(at: Date | null): string {
  if (at === null) return NEVER;
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const NEVER = 'never';

/** The largest version a cell may give: rg_customers.version is an INT. */
const MAX_VERSION = 2_147_483_647;

/** A `version` cell: the whole number an export wrote. Throws BadUserInputError otherwise. */
export function parseVersion(field: string, cell: string): number {
  const text = cell.trim();
  const version = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(version >= 1 && version <= MAX_VERSION)) {
    throw new BadUserInputError(
      field,
      `version must be the whole number an export wrote (1 or more), or empty; got "${cell}"`,
    );
  }
  return version;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An `expires` cell: null for `never`, a Date otherwise (see CSV_COLUMNS). Whole seconds, as
 * MySQL's DATETIME keeps them. Throws BadUserInputError on anything else, such as 2026-02-30.
 */
export function parseExpires(field: string, cell: string): Date | null {
  const text = cell.trim();
  if (text.toLowerCase() === NEVER) return null;
  const m = DATE_TIME.exec(text);
  if (!m) {
    throw new BadUserInputError(
      field,
      `expires must be a date such as 2026-12-31, 2026-12-31 23:59 or 2026-12-31T23:59:59Z (UTC unless an offset is given), or "never"; got "${cell}"`,
    );
  }
  const [, y, mo, d, h = '0', mi = '0', s = '0', , zone] = m;
  const parts = [y, mo, d, h, mi, s].map(Number);
  const utc = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== parts[0] ||
    check.getUTCMonth() !== parts[1] - 1 ||
    check.getUTCDate() !== parts[2] ||
    parts[3] > 23 ||
    parts[4] > 59 ||
    parts[5] > 59 ||
    parts[0] < 1970 ||
    parts[0] > 2100
  ) {
    throw new BadUserInputError(field, `expires is not a real date and time: "${cell}"`);
  }
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
    if (Number(z[2]) > 14 || Number(z[3]) > 59) {
      throw new BadUserInputError(field, `expires has an impossible UTC offset: "${zone}"`);
    }
  }
  return new Date(utc - offsetMinutes * 60_000);
}

/** The cells of a line, quoted where RFC 4180 needs it, ending in CRLF as the RFC says. */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(quote).join(',')}\r\n`;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) || /^\s|\s$/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export const CSV_HEADER_LINE = csvLine(CSV_COLUMNS);
