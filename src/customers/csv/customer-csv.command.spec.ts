import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { customersCommand, type CustomerCsvServices } from './customer-csv.command';
import type { CustomerExportService } from './customer-export.service';
import { CSV_HEADER_LINE } from './customer-csv';

/** An exporter whose database goes away after the header and one batch of customers. */
function failingExporter(): CustomerExportService {
  return {
    async *chunks() {
      yield CSV_HEADER_LINE;
      yield 'RG-AAAA-BBBB,alice,,,,Home,never\r\n';
      await Promise.resolve();
      throw new Error('Connection lost: The server closed the connection.');
    },
  } as unknown as CustomerExportService;
}

describe('customers export to a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'radgraph-export-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves no file behind when the export fails half way, and says why', async () => {
    const file = path.join(dir, 'customers.csv');
    const lines: string[] = [];
    const csv = { exporter: failingExporter() } as CustomerCsvServices;
    await expect(customersCommand(csv, ['export', file], (l) => lines.push(l))).rejects.toThrow(
      'Connection lost',
    );
    // A file with the header and some rows would pass for a whole (smaller) export.
    expect(existsSync(file)).toBe(false);
    expect(lines).toEqual([]);
  });

  it('writes the whole file and counts its customers when the export succeeds', async () => {
    const file = path.join(dir, 'customers.csv');
    const rows = ['RG-AAAA-BBBB,alice,,,,Home,never\r\n', 'RG-CCCC-DDDD,bob,,,,Home,never\r\n'];
    const exporter = {
      async *chunks() {
        yield CSV_HEADER_LINE;
        await Promise.resolve();
        yield rows.join('');
      },
    } as unknown as CustomerExportService;
    const lines: string[] = [];
    const code = await customersCommand(
      { exporter } as CustomerCsvServices,
      ['export', file],
      (l) => lines.push(l),
    );
    expect(code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(CSV_HEADER_LINE + rows.join(''));
    expect(lines).toEqual([`2 customers written to ${file}`]);
  });
});
