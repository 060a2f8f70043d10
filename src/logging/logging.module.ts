import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Module, type LoggerService } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, stdTimeFunctions, type LevelWithSilent, type Logger as Pino } from 'pino';
import { clientAddress, type TrustFunction } from '../common/http/client-address';
import type { AppConfig, LogLevel } from '../config/app-config';
import { TRUST_PROXY } from '../config/config.tokens';

/** LOG_LEVEL in pino's names: Nest's verbose is pino's trace. */
const PINO_LEVEL: Record<LogLevel, LevelWithSilent> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** A request id a caller may choose (a proxy's X-Request-Id): short, and nothing that splits a line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Probes and scrapes: logged at debug, so a Prometheus or an orchestrator does not flood the log. */
const PROBES = new Set(['/health', '/ready', '/metrics']);

/**
 * Keys whose values never reach a log line, wherever they sit in a logged object (one level
 * down, and at the top): the NAS secret, passwords, tokens and keys. Log lines carry no request
 * or response headers at all (see the serializers).
 */
const REDACT = ['password', 'secret', 'token', 'authorization', 'apiKey', 'key', 'cookie'].flatMap(
  (k) => [k, `*.${k}`],
);

/** A request's path, without its query string (which may carry anything). */
const pathOf = (url: string | undefined) => (url ?? '').split('?')[0];

/**
 * /ready's 503: the readiness probe's answer while a dependency is down, not a failure of the
 * request. Logged at debug like any probe, without pino-http's made-up error and its stack:
 * the dependency's going down and coming back are logged once each (ReadinessLog), not at
 * every probe.
 */
const isNotReadyAnswer = (req: IncomingMessage, res: ServerResponse) =>
  res.statusCode === 503 && pathOf(req.url) === '/ready';

/** The line format and level every radgraph log line has, the request lines and the rest. */
function baseOptions(config: AppConfig) {
  return {
    level: PINO_LEVEL[config.logLevel],
    base: { service: 'radgraph' },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
}

/**
 * Nest's logger until the app's (nestjs-pino, which exists only once the app does) takes
 * over: the same JSON lines at the same LOG_LEVEL. The lines Nest holds while it starts
 * (bufferLogs) go here when the start fails, as does the error that failed it, so a failed
 * start logs JSON too rather than Nest's coloured text.
 */
export class StartupLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(config: AppConfig) {
    this.pino = pino(baseOptions(config), process.stdout);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes the context last, and for errors maybe a stack before it. */
  private write(
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal',
    message: unknown,
    params: unknown[],
  ) {
    const rest = [...params];
    const context = typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
      return;
    }
    if (typeof rest[0] === 'string') fields.err = { stack: rest[0] };
    this.pino[level](fields, typeof message === 'string' ? message : JSON.stringify(message));
  }
}

/**
 * Structured logs: one JSON object a line on stdout (pino, through nestjs-pino), for every
 * Nest logger in the app and one line per HTTP request. Each request gets an id (the caller's
 * X-Request-Id when it is sane, a UUID otherwise), sent back in X-Request-Id and carried by
 * every line logged while the request runs. Secrets are redacted by key, and request lines
 * hold the method, the path, the status and the time, never headers or bodies.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [TRUST_PROXY],
          useFactory: (trust: TrustFunction) => ({
            pinoHttp: [
              {
                ...baseOptions(config),
                genReqId(req: IncomingMessage, res: ServerResponse) {
                  const given = req.headers['x-request-id'];
                  const id =
                    typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
                  res.setHeader('x-request-id', id);
                  return id;
                },
                customLogLevel(req, res, err) {
                  if (isNotReadyAnswer(req, res)) return 'debug';
                  if (err || res.statusCode >= 500) return 'error';
                  if (res.statusCode >= 400 && res.statusCode !== 401) return 'warn';
                  return PROBES.has(pathOf(req.url)) ? 'debug' : 'info';
                },
                customErrorObject(req, res, _err, fields: Record<string, unknown>) {
                  if (!isNotReadyAnswer(req, res)) return fields;
                  const { err: _omitted, ...rest } = fields;
                  return rest;
                },
                customErrorMessage(req, res) {
                  return isNotReadyAnswer(req, res) ? 'request completed' : 'request errored';
                },
                customProps(req) {
                  const body = (req as IncomingMessage & { body?: { operationName?: unknown } })
                    .body;
                  const name = body?.operationName;
                  return typeof name === 'string' && name.length <= 100 ? { operation: name } : {};
                },
                serializers: {
                  req: (req: {
                    id: string;
                    method: string;
                    url: string;
                    remoteAddress?: string;
                    raw?: IncomingMessage;
                  }) => ({
                    id: req.id,
                    method: req.method,
                    path: pathOf(req.url),
                    // The client's, under TRUST_PROXY (not the load balancer's).
                    remoteAddress: req.raw ? clientAddress(req.raw, trust) : req.remoteAddress,
                  }),
                  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
                },
              },
              // process.stdout rather than pino's own file-descriptor writer: one writer for the
              // whole process, in order with anything else that writes there.
              process.stdout,
            ],
          }),
        }),
      ],
    };
  }
}
