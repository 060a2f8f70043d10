import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AuthService } from './auth/auth.service';
import { AccountingListener } from './radius/accounting/accounting-listener.service';
import { createApp, holdSignalsWhileStarting, listen, stopOnSignals } from './bootstrap';
import { ConfigError, describeConfig, loadConfig, type AppConfig } from './config/app-config';
import { GRAPHQL_PATH } from './graphql/graphql-api.module';
import { StartupLogger } from './logging/logging.module';

function fail(message: string): never {
  process.stderr.write(`radgraph: ${message}\n`);
  process.exit(1);
}

function printWelcome(config: AppConfig, auth: AuthService): void {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const shown = host === '127.0.0.1' ? 'localhost' : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${config.port}${GRAPHQL_PATH}`;
  const lines = [`radgraph is up: GraphQL at ${url} (HTTP and graphql-ws)`];
  const admin = auth.adminToken;
  if (admin.source === 'env') {
    lines.push('Authorization: Bearer $ADMIN_TOKEN');
  } else {
    lines.push(`Authorization: Bearer ${admin.token}`);
    lines.push(
      `(${admin.source === 'generated' ? 'generated now and kept' : 'kept'} in ${admin.file}; set ADMIN_TOKEN to choose your own)`,
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const logger = new Logger('radgraph');
  // JSON lines, as every other, before the app's logger exists.
  const starting = holdSignalsWhileStarting(new StartupLogger(config));
  let app;
  try {
    app = await createApp(config);
    // Still held while it listens: listen() runs Nest's init (onModuleInit: the Redis
    // subscriptions wait up to 5 s each), and a close then would run beside it, its lines lost.
    if (!starting.held()) await listen(app, config);
    starting.release();
    const stop = stopOnSignals(app, logger);
    const held = starting.held();
    if (held) {
      app.flushLogs(); // written by listen() otherwise
      stop(held);
      return;
    }
  } catch (err) {
    starting.release();
    await app?.close().catch(() => undefined);
    fail((err as Error).message);
  }
  // The accounting port bound, not the one configured (0 picks a free one).
  const bound = config.radiusAcctEnabled ? app.get(AccountingListener).address() : null;
  const started = bound ? { ...config, radiusAcctPort: bound.port } : config;
  logger.log(`Started: ${JSON.stringify(describeConfig(started))}`);
  printWelcome(config, app.get(AuthService));
}

main().catch((err: unknown) =>
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err)),
);
