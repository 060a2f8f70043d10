import type { Server } from 'node:http';
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

const SHUTDOWN_SIGNALS = Object.values(ShutdownSignal) as NodeJS.Signals[];

/**
 * While the app starts (createApp: the database's migrations among the rest; then listen:
 * Nest's init hooks), a shutdown signal is held, not obeyed: killed then, a MariaDB would keep a migration half applied (its
 * DDL is not transactional). The start goes on, and `held()` says which signal came, for
 * stopOnSignals to stop the started app with. A second signal while it starts ends the
 * process at once (an operator who insists). `release()` removes these handlers.
 */
export function holdSignalsWhileStarting(logger: LoggerService): {
  held: () => NodeJS.Signals | null;
  release: () => void;
} {
  let got: NodeJS.Signals | null = null;
  const hold = (signal: NodeJS.Signals) => {
    if (got !== null) {
      logger.warn(`${signal} again while starting: stopping now`, 'radgraph');
      release();
      process.kill(process.pid, signal);
      return;
    }
    got = signal;
    logger.log(
      `${signal} while starting (migrations may be running): stopping once started; send it again to stop now`,
      'radgraph',
    );
  };
  const release = () => {
    for (const s of SHUTDOWN_SIGNALS) process.removeListener(s, hold);
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, hold);
  return { held: () => got, release };
}

/**
 * Closes the app gracefully on the signals Nest's shutdown hooks listen to (SIGTERM, SIGINT
 * and the rest), as those did, and logs one line when the shutdown starts and one when it
 * ends, with how long it took. A second signal while it runs is ignored; once closed, the
 * process ends by the signal it got (as Nest does); a failed close logs why and exits 1.
 * Returns the way to stop as on a signal (one held while the app started).
 */
export function stopOnSignals(
  app: INestApplication,
  logger: LoggerService,
): (signal: NodeJS.Signals) => void {
  const signals = SHUTDOWN_SIGNALS;
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
  return stop;
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
  keepConnectionsAlive(app.getHttpServer() as Server);
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

/**
 * How long an idle HTTP connection is kept open for the client's next request. Node's 5 s is
 * shorter than what reverse proxies and load balancers keep their upstream connections for
 * (nginx's keepalive_timeout 60 s, AWS ALB's idle timeout 60 s): they would send a request on
 * a connection radgraph is closing at that moment, and the client gets a 502. Above 60 s, the
 * proxy closes first. It also spares a client whose connection went idle while the event loop
 * was busy for a few seconds (an import's write on SQLite): after such a wait Node runs its
 * timers before reading the sockets, and with 5 s would close a connection whose next request
 * had already come (ECONNRESET).
 */
export const HTTP_KEEP_ALIVE_MS = 65_000;

function keepConnectionsAlive(server: Server): void {
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
}
