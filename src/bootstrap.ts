import { ShutdownSignal, type INestApplication, type LoggerService } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AccountingListener } from './radius/accounting/accounting-listener.service';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import type { TrustFunction } from './common/http/client-address';
import { TRUST_PROXY } from './config/config.tokens';
import { applyHttpLimits } from './graphql/http-limits';
import { serveConsole } from './console/console-assets';
import { StartupLogger } from './logging/logging.module';

/** Thrown when a port radgraph must bind is taken; names the variable to change. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly variable: string,
    readonly host: string,
    readonly port: number,
  ) {
    super(
      `${variable}=${port} is already in use on ${host}: stop whatever holds it, or set ${variable} to a free port`,
    );
  }
}

/** Builds the app for a configuration, without listening (tests call listen themselves). */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    // Held until the JSON logger (LoggingModule) takes over, so every line is JSON; the same
    // JSON lines, from StartupLogger, when the start fails before it could.
    logger: new StartupLogger(config),
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // req.ip (and req.ips, req.protocol) under TRUST_PROXY, as radgraph's own limits see it.
  app.set('trust proxy', app.get<TrustFunction>(TRUST_PROXY));
  applyHttpLimits(app, config.graphql);
  serveConsole(app);
  return app;
}

/**
 * Closes the app gracefully on the signals Nest's shutdown hooks listen to (SIGTERM, SIGINT
 * and the rest), as those did, and logs one line when the shutdown starts and one when it
 * ends, with how long it took. A second signal while it runs is ignored; once closed, the
 * process ends by the signal it got (as Nest does); a failed close logs why and exits 1.
 */
export function stopOnSignals(app: INestApplication, logger: LoggerService): void {
  const signals = Object.values(ShutdownSignal) as NodeJS.Signals[];
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const startedAt = Date.now();
    logger.log(`Stopping on ${signal}`);
    app.close().then(
      () => {
        logger.log(`Stopped in ${Date.now() - startedAt} ms`);
        for (const s of signals) process.removeListener(s, stop);
        process.kill(process.pid, signal);
      },
      (err: unknown) => {
        logger.error(
          `Stopping on ${signal} failed after ${Date.now() - startedAt} ms: ${(err as Error).message}`,
          (err as Error).stack,
        );
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, stop);
}

/**
 * Listens on HOST:PORT (GraphQL) and RADIUS_ACCT_HOST:RADIUS_ACCT_PORT (accounting, unless
 * RADIUS_ACCT_ENABLED=false); a taken port becomes a PortInUseError that names its variable.
 */
export async function listen(app: INestApplication, config: AppConfig): Promise<void> {
  try {
    await app.listen(config.port, config.host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError('PORT', config.host, config.port);
    }
    throw err;
  }
  if (!config.radiusAcctEnabled) return;
  try {
    await app.get(AccountingListener).start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError('RADIUS_ACCT_PORT', config.radiusAcctHost, config.radiusAcctPort);
    }
    throw err;
  }
}
