import { Readable } from 'node:stream';
import { turnsDuring } from '../../../test/support/event-loop-turns';
import {
  fromTextCell,
  parseVersion,
  readCsv,
  textCell,
  TEXT_SLICE,
  type CsvRow,
} from './customer-csv';

async function rows(source: string | AsyncIterable<Buffer>): Promise<CsvRow[]> {
  const out: CsvRow[] = [];
  for await (const row of readCsv(source, () => undefined)) out.push(row);
  return out;
}

describe('readCsv', () => {
  it.each([
    ['LF', 'username,name\na,b\nc,d\n', [2, 3]],
    ['LF with blank lines', 'username,name\na,b\n\n\nc,d', [2, 5]],
    ['CRLF', 'username,name\r\na,b\r\nc,d\r\n', [2, 3]],
    ['CRLF, a quoted cell over two lines', 'username,name\r\na,"x\r\ny"\r\nc,d\r\n', [2, 4]],
    ['LF, a quoted cell over three lines', 'username,name\na,"1\n2\n3"\n\nc,d\n', [2, 6]],
    ['blank lines before the header', '\n\nusername,name\na,b\n', [4]],
  ])('numbers the lines of %s as an editor does', async (_kind, text, lines) => {
    expect((await rows(text)).map((r) => r.line)).toEqual(lines);
  });

  it('reads a large text in slices as it reads the same bytes at once, wherever the cuts fall', async () => {
    // Rows of many lengths, so that the cuts fall at different places in them: in quoted cells
    // over two lines, CRLFs, doubled quotes, emoji (surrogate pairs), 3-byte characters.
    const header = 'username,name\r\n';
    const lines: string[] = [];
    let length = header.length;
    for (let i = 0; length < 4 * TEXT_SLICE + 1000; i++) {
      const pad = 'x'.repeat(i % 23);
      const line = `u${i},"${pad}😀 ""é€""\r\n${pad}🇰🇪"\r\n`;
      lines.push(line);
      length += line.length;
    }
    // An emoji exactly across the first cut: its high surrogate is the slice's last character.
    const before = header + lines.join('');
    const at = TEXT_SLICE - 2 - header.length; // then the comma, then the emoji
    const text = `${header}${'y'.repeat(at)},😀\r\n${before.slice(header.length)}`;
    expect(text.charCodeAt(TEXT_SLICE - 1)).toBe('😀'.charCodeAt(0));
    const sliced = await rows(text);
    const whole = await rows(Readable.from([Buffer.from(text)]));
    expect(sliced).toEqual(whole);
    expect(sliced[0].cells).toEqual({ username: 'y'.repeat(at), name: '😀' });
    expect(sliced).toHaveLength(lines.length + 1);
    expect(sliced[lines.length].cells.name).toMatch(/^x*😀 "é€"\r\nx*🇰🇪$/);
    // The header, the y row, then two lines a row.
    expect(sliced[lines.length].line).toBe(2 + 2 * lines.length - 1);
  });

  it('lets the event loop go round while it reads a large text', async () => {
    const text = `username,name\n${Array.from({ length: 20_000 }, (_, i) => `u${i},n${i}\n`).join('')}`;
    const { turns, result } = await turnsDuring(() => rows(text));
    expect(result).toHaveLength(20_000);
    // A turn between each two slices at least: csv-parse is never given the whole text.
    expect(turns).toBeGreaterThanOrEqual(Math.floor(text.length / TEXT_SLICE) - 1);
  });

  it('ends a large stream at once when the header is wrong, instead of hanging', async () => {
    const big = Readable.from(
      (function* () {
        yield Buffer.from('phone,name\n');
        for (let i = 0; i < 20_000; i++) yield Buffer.from(`0700${i},name ${i}\n`);
      })(),
    );
    await expect(rows(big)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'csv' });
  });

  it('ends a large stream at once on broken quoting, naming the line', async () => {
    const big = Readable.from(
      (function* () {
        yield Buffer.from('username,name\na,"b"x\n');
        for (let i = 0; i < 20_000; i++) yield Buffer.from(`u${i},name ${i}\n`);
      })(),
    );
    await expect(rows(big)).rejects.toThrow(/not valid CSV near line 2/);
  });
});

describe('textCell and fromTextCell', () => {
  it.each(['=SUM(A1)', '+254 700', '-5', '@cmd', "'+Bob", "''=x", "'plain", 'plain', ''])(
    'read back %j exactly',
    (value) => {
      expect(fromTextCell(textCell(value))).toBe(value);
    },
  );

  it('guards what a spreadsheet would run', () => {
    expect(textCell('=HYPERLINK("x")')).toBe(`'=HYPERLINK("x")`);
    expect(textCell("'+Bob")).toBe("''+Bob");
    expect(textCell('Wanjiku')).toBe('Wanjiku');
  });
});

describe('parseVersion', () => {
  it.each([
    ['1', 1],
    [' 42 ', 42],
    ['2147483647', 2_147_483_647],
  ])('reads %j as %d', (cell, version) => {
    expect(parseVersion('version', cell)).toBe(version);
  });

  it.each(['0', '-3', '1.5', '1e3', 'v2', '2147483648', '99999999999'])(
    'refuses %j, naming the column',
    (cell) => {
      expect(() => parseVersion('version', cell)).toThrow(
        expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'version' }),
      );
    },
  );
});
