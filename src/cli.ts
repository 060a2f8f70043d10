/**
 * radgraph's command line, on the same configuration (DATABASE_URL, DATA_DIR…) and migrations
 * as the app:
 *   npm run cli -- apikey create --role viewer --name grafana   prints the key, once
 *   npm run cli -- apikey list
 *   npm run cli -- apikey revoke grafana
 *   npm run cli -- customers import customers.csv [--dry-run] [--valid-rows] [--passwords-out F]
 *   npm run cli -- customers export [customers.csv] [--profile <name>] [--status <s>] [--search <t>]
 *   npm run cli -- adopt [--dry-run]   FreeRADIUS's users and groups no customer or profile owns
 */
import 'reflect-metadata';
import { ApiKeysService } from './auth/api-keys/api-keys.service';
import { Role } from './auth/principal';
import { AppError } from './common/errors/app-error';
import { ConfigError, loadConfig } from './config/app-config';
import { DataDirError } from './config/data-dir';
import { option, UsageError } from './common/cli/cli-args';
import { createDataSource, DatabaseUnreachableError } from './database/data-source-options';
import { TransactionsService } from './database/transactions.service';
import { AuditService } from './audit/audit.service';
import { CLI_ACTOR_KIND, runAudited } from './audit/audit-context';
import { Clock } from './common/clock/clock';
import { userInfo } from 'node:os';
import { CustomerDirectoryService } from './customers/customer-directory.service';
import { customersCommand } from './customers/csv/customer-csv.command';
import { CustomerExportService } from './customers/csv/customer-export.service';
import { ProfileDirectoryService } from './profiles/profile-directory.service';
import { CustomerImportService } from './customers/csv/customer-import.service';
import { adoptCommand } from './customers/adoption/account-adoption.command';
import { AccountAdoptionService } from './customers/adoption/account-adoption.service';

const USAGE = `usage:
  radgraph apikey create --role viewer|operator|admin --name <name>
  radgraph apikey list
  radgraph apikey revoke <name>
  radgraph customers import <file.csv> [--dry-run] [--valid-rows] [--passwords-out <file>]
  radgraph customers export [<file.csv>] [--profile <name>] [--status online|offline|expired|suspended] [--search <term>]
  radgraph adopt [--dry-run]`;

function parseRole(value: string): Role {
  const role = value.toUpperCase() as Role;
  if (!Object.values(Role).includes(role)) {
    throw new UsageError(`--role must be viewer, operator or admin (got "${value}")`);
  }
  return role;
}

const when = (d: Date | null) => (d ? d.toISOString() : '-');

async function apikey(keys: ApiKeysService, args: string[], out: (s: string) => void) {
  const [command, ...rest] = args;
  switch (command) {
    case 'create': {
      const { key, apiKey } = await keys.create(
        option(rest, 'name'),
        parseRole(option(rest, 'role')),
      );
      out(`Created API key "${apiKey.name}" (${apiKey.role}, id ${apiKey.id}).`);
      out(
        'The key is shown this once; it is not stored. Send it as "Authorization: Bearer <key>":',
      );
      out(key);
      return;
    }
    case 'list': {
      const all = await keys.list();
      if (all.length === 0) return out('No API keys.');
      out(['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'].join('\t'));
      for (const k of all) {
        out(
          [
            k.id,
            k.name,
            k.role,
            k.prefix,
            when(k.createdAt),
            when(k.lastUsedAt),
            when(k.revokedAt),
          ].join('\t'),
        );
      }
      return;
    }
    case 'revoke': {
      const name = rest[0];
      if (!name) throw new UsageError('apikey revoke needs the key name');
      const found = await keys.findByName(name);
      if (!found) throw new UsageError(`No API key named "${name}"`);
      await keys.revoke(found.id);
      out(`Revoked API key "${name}".`);
      return;
    }
    default:
      throw new UsageError(
        command ? `unknown apikey command "${command}"` : 'apikey needs a command',
      );
  }
}

async function main(argv: string[]): Promise<number> {
  const [area, ...args] = argv;
  if (area !== 'apikey' && area !== 'customers' && area !== 'adopt') {
    process.stderr.write(`${area ? `unknown command "${area}"\n` : ''}${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const dataSource = await createDataSource(config.database, {
    runMigrations: config.runMigrations,
  });
  await dataSource.initialize();
  try {
    const tx = new TransactionsService(dataSource);
    const audit = new AuditService(dataSource, tx, new Clock());
    // The audit trail names the operating-system user who ran the command.
    const actor = {
      actor: `${CLI_ACTOR_KIND}:${userInfo().username}`,
      actorKind: CLI_ACTOR_KIND,
      operation: area === 'adopt' ? area : `${area} ${args[0] ?? ''}`.trim(),
    };
    const out = (s: string) => process.stdout.write(`${s}\n`);
    if (area === 'customers') {
      const profiles = new ProfileDirectoryService(dataSource);
      const csv = {
        importer: new CustomerImportService(dataSource, tx, audit, profiles),
        exporter: new CustomerExportService(new CustomerDirectoryService(dataSource), profiles),
      };
      return await runAudited(actor, () => customersCommand(csv, args, out));
    }
    if (area === 'adopt') {
      const adoption = new AccountAdoptionService(tx, audit);
      return await runAudited(actor, () => adoptCommand(adoption, args, out));
    }
    const keys = new ApiKeysService(dataSource, tx, audit);
    await runAudited(actor, () => apikey(keys, args, out));
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // What the operator can act on from the message alone: no stack trace, exit 1.
    const expected =
      err instanceof UsageError ||
      err instanceof AppError ||
      err instanceof ConfigError ||
      err instanceof DataDirError ||
      err instanceof DatabaseUnreachableError;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`radgraph: ${expected ? message : ((err as Error).stack ?? message)}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(expected ? 1 : 70);
  },
);
