import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { optionalOption, positionals, UsageError } from '../../common/cli/cli-args';
import { ProgressBar } from '../../common/progress/progress-bar';
import { CustomerStatus } from '../customer-rules';
import type { CustomerFilter } from '../customer-directory.service';
import { csvLine } from './customer-csv';
import type { CustomerExportService } from './customer-export.service';
import {
  CustomerImportMode,
  type CustomerImportService,
  type ImportOutcome,
} from './customer-import.service';

/** Errors listed on the terminal; the rest are counted (the GraphQL result has them all). */
const ERRORS_SHOWN = 50;

export interface CustomerCsvServices {
  importer: CustomerImportService;
  exporter: CustomerExportService;
}

/**
 * `radgraph customers import|export`: the CSV of customer-csv.ts, streamed from and to files
 * of any size, with a progress bar on a terminal (stderr) and none anywhere else. Exit code 0
 * when every row was good, 1 when some were not (written or not, as the mode says).
 */
export async function customersCommand(
  csv: CustomerCsvServices,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'import':
      return importFile(csv.importer, rest, out);
    case 'export':
      return exportFile(csv.exporter, rest, out);
    default:
      throw new UsageError(
        command ? `unknown customers command "${command}"` : 'customers needs a command',
      );
  }
}

async function importFile(
  importer: CustomerImportService,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const [file, ...extra] = positionals(args, ['dry-run', 'valid-rows'], ['passwords-out']);
  if (!file || extra.length > 0) throw new UsageError('customers import needs one CSV file');
  const dryRun = args.includes('--dry-run');
  const mode = args.includes('--valid-rows')
    ? CustomerImportMode.VALID_ROWS
    : CustomerImportMode.ALL_OR_NOTHING;
  const passwordsOut = optionalOption(args, 'passwords-out') ?? `${file}.passwords.csv`;
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  // The file for generated passwords is made before anything is written, so an import can
  // never commit customers whose passwords then have nowhere to go.
  let passwordsFd: number | null = null;
  if (!dryRun) {
    try {
      passwordsFd = openSync(passwordsOut, 'wx', 0o600);
    } catch (err) {
      throw new UsageError(
        `cannot create ${passwordsOut} for the passwords radgraph generates (${(err as NodeJS.ErrnoException).code}): move it away or choose another with --passwords-out`,
      );
    }
  }
  const reading = new ProgressBar(process.stderr, 'Checking', '', formatBytes);
  const writing = new ProgressBar(process.stderr, 'Writing', 'rows');
  let bytes = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      reading.update(bytes, size);
      yield chunk;
    }
    reading.finish(bytes, size);
  }
  let result: ImportOutcome;
  try {
    result = await importer.import(counted(), {
      dryRun,
      mode,
      onProgress: (p) => {
        if (p.phase !== 'writing') return;
        if (p.done === p.total) writing.finish(p.done, p.total);
        else writing.update(p.done, p.total);
      },
    });
  } catch (err) {
    if (passwordsFd !== null) {
      closeSync(passwordsFd);
      unlinkSync(passwordsOut);
    }
    throw err;
  }
  report(result, out);
  if (passwordsFd !== null) savePasswords(result, passwordsFd, passwordsOut, out);
  return result.invalid > 0 ? 1 : 0;
}

/** The generated passwords into their file (mode 600), or the file away when there are none. */
function savePasswords(
  result: ImportOutcome,
  fd: number,
  file: string,
  out: (line: string) => void,
): void {
  const generated = result.generatedPasswords;
  if (generated.length === 0) {
    closeSync(fd);
    unlinkSync(file);
    return;
  }
  const lines = [csvLine(['line', 'username', 'password'])];
  for (const g of generated) lines.push(csvLine([String(g.line), g.username, g.password]));
  try {
    writeSync(fd, lines.join(''));
    closeSync(fd);
  } catch (err) {
    // Committed already: the passwords must reach the operator somehow.
    out(`cannot write ${file} (${(err as Error).message}); the generated passwords:`);
    for (const line of lines) out(line.trimEnd());
    return;
  }
  out(
    `${generated.length} new customers had no password: radgraph generated them, in ${file} (mode 600). Hand them out, then delete the file.`,
  );
}

function report(r: ImportOutcome, out: (line: string) => void): void {
  const verb = r.dryRun ? 'would be' : r.written ? 'were' : 'would have been';
  out(
    `${r.rows.toLocaleString('en-US')} rows: ${r.created} ${verb} created, ${r.updated} updated, ${r.unchanged} unchanged; ${r.invalid} with errors.`,
  );
  if (r.ignoredColumns.length > 0) out(`Ignored columns: ${r.ignoredColumns.join(', ')}`);
  for (const e of r.errors.slice(0, ERRORS_SHOWN)) {
    out(`  line ${e.line}${e.column ? ` (${e.column})` : ''}: ${e.message}`);
  }
  if (r.errors.length > ERRORS_SHOWN) out(`  … and ${r.errors.length - ERRORS_SHOWN} more errors`);
  if (r.dryRun) out('Dry run: nothing was written.');
  else if (!r.written && r.invalid > 0 && r.mode === CustomerImportMode.ALL_OR_NOTHING) {
    out('Nothing was written (all or nothing). Fix those lines, or import with --valid-rows.');
  } else if (!r.written && r.invalid > 0) {
    out('Nothing was written: no valid row had anything to change.');
  } else if (!r.written) out('Nothing to write: every row matches its customer.');
  if (r.written && r.updated > 0) {
    out(
      'Online customers moved to another profile get its rate at their next login (the CLI sends no CoA; importCustomers over GraphQL does).',
    );
  }
  if (r.ratePushFailures > 0) {
    out(`${r.ratePushFailures} online customers get their new rate at their next login.`);
  }
}

async function exportFile(
  exporter: CustomerExportService,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const [file, ...extra] = positionals(args, [], ['profile', 'status', 'search']);
  if (extra.length > 0) throw new UsageError('customers export takes at most one file');
  const filter = await exportFilter(exporter, args);
  const bar = new ProgressBar(process.stderr, 'Exporting', 'rows');
  // Opened here, never over an existing file, so that a file that cannot be made is a
  // message, not a write stream's unhandled error once the export is under way.
  let fd: number | undefined;
  if (file) {
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      throw new UsageError(
        `cannot create ${file} (${(err as NodeJS.ErrnoException).code}): the export never writes over a file; move it away or choose another`,
      );
    }
  }
  let rows = -1;
  async function* counted(): AsyncGenerator<string> {
    for await (const chunk of exporter.chunks(filter)) {
      rows += (chunk.match(/\r\n/g) ?? []).length;
      if (file) bar.update(rows, null);
      yield chunk;
    }
  }
  if (fd === undefined) {
    try {
      await pipeline(counted(), process.stdout, { end: false });
    } catch (err) {
      // The reader stopped early (`| head`, a pager closed): it has what it wanted.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    }
    return 0;
  }
  try {
    await pipeline(counted(), createWriteStream('', { fd }));
  } catch (err) {
    // Never a file that looks like a whole export but is not: the error says what failed.
    rmSync(file, { force: true });
    throw err;
  }
  bar.finish(rows, rows);
  out(`${rows.toLocaleString('en-US')} customers written to ${file}`);
  return 0;
}

async function exportFilter(
  exporter: CustomerExportService,
  args: string[],
): Promise<CustomerFilter> {
  const filter: CustomerFilter = { search: optionalOption(args, 'search') ?? null };
  const status = optionalOption(args, 'status');
  if (status !== undefined) {
    const s = status.toUpperCase() as CustomerStatus;
    if (!Object.values(CustomerStatus).includes(s)) {
      throw new UsageError(
        `--status must be online, offline, expired or suspended (got "${status}")`,
      );
    }
    filter.status = s;
  }
  const profile = optionalOption(args, 'profile');
  if (profile !== undefined) {
    const found = await exporter.profileNamed(profile);
    if (!found) throw new UsageError(`No profile named "${profile}"`);
    filter.profileId = String(found.id);
  }
  return filter;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
