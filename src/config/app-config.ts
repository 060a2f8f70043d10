import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { MAX_CURRENCY_DECIMALS } from '../common/money/money';

/** Thrown when the environment does not describe a runnable radgraph. Names the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type DatabaseConfig =
  | { kind: 'mysql'; url: string; host: string; port: number; database: string }
  /** from: 'DATA_DIR' for the embedded default (DATA_DIR/radgraph.sqlite), not for sqlite:. */
  | { kind: 'sqlite'; file: string; from?: 'DATA_DIR' };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';

/** The validated configuration, read once at boot from the environment. */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  database: DatabaseConfig;
  runMigrations: boolean;
  dataDir: string;
  adminToken: string | undefined;
  radiusAcctHost: string;
  /** 0 picks a free port (tests); the bound one is on AccountingListener.address(). */
  radiusAcctPort: number;
  /** false: no accounting listener (FreeRADIUS alone writes radacct). */
  radiusAcctEnabled: boolean;
  /**
   * Per source address: packets a second on average (RADIUS_ACCT_RATE_PER_SOURCE, 0: no limit)
   * and at once (RADIUS_ACCT_BURST_PER_SOURCE); more are dropped as rate-limited.
   */
  radiusAcctRateLimit: { perSecond: number; burst: number };
  /** How often the radacct change feed polls for rows others wrote; 0 turns the feed off. */
  changeFeedIntervalMs: number;
  /** Stale sessions: no update for multiplier × the session's interim interval (at least minSeconds). */
  staleSessions: StaleSessionConfig;
  logLevel: LogLevel;
  /** SECRETS_KEY: encrypts RouterOS API passwords at rest (undefined: generated in DATA_DIR). */
  secretsKey: Buffer | undefined;
  nas: NasConfig;
  /** Decimal places of the currency (CURRENCY_DECIMALS): money is stored in these minor units. */
  currencyDecimals: number;
  /** The expiry job: disconnects expired customers who are online, and sends reminders. */
  expiry: ExpiryConfig;
  /** How long FreeRADIUS's logs are kept before radgraph deletes them (0: for ever). */
  retention: RetentionConfig;
  /**
   * REDIS_URL: session events fan out through Redis to every instance (several instances
   * behind a load balancer); null: in memory, one instance.
   */
  redisUrl: string | null;
  /**
   * REDIS_COMMAND_TIMEOUT_MS: how long a publish to Redis may wait for its answer before it
   * counts as failed (a Redis that stops answering without closing the connection).
   */
  redisCommandTimeoutMs: number;
  /** METRICS_TOKEN: the bearer token GET /metrics needs; null: /metrics is open, like /health. */
  metricsToken: string | null;
  /** WEBHOOK_URL and WEBHOOK_SECRET: where events are POSTed, signed; null: no webhook. */
  webhook: WebhookConfig | null;
  /** Limits on GraphQL requests (HTTP and graphql-ws). */
  graphql: GraphqlLimitsConfig;
  /**
   * TRUST_PROXY: which proxies in front may name the client in X-Forwarded-For (the address
   * the per-address limits and the logs use); null: none, the socket's peer is the client.
   */
  trustProxy: TrustProxy;
}

/** How many proxies to trust, or which (addresses, CIDR ranges, proxy-addr's names); null: none. */
export type TrustProxy = { hops: number } | { addresses: readonly string[] } | null;

export interface GraphqlLimitsConfig {
  /** Introspection and the landing page (GRAPHQL_INTROSPECTION; default: on outside production). */
  introspection: boolean;
  /** Operations in one batched HTTP request (GRAPHQL_MAX_BATCH_SIZE); 1 turns batching off. */
  maxBatchSize: number;
  /** The largest HTTP request body, in bytes (GRAPHQL_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Operations a caller (key, or IP without one) may run per minute; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** How many operations a caller may run at once before the per-minute pace applies. */
  rateLimitBurst: number;
  /**
   * Operations one graphql-ws connection may have open at once, subscriptions included
   * (GRAPHQL_WS_MAX_OPERATIONS): a client that leaks subscriptions cannot add fan-out forever.
   */
  wsMaxOperations: number;
  /**
   * How long a graphql-ws socket may stay open without a valid token, in seconds
   * (GRAPHQL_WS_AUTH_TIMEOUT_SECONDS): then it is closed with 4401 Unauthorized.
   */
  wsAuthTimeoutSeconds: number;
  /**
   * Sockets one address may hold open at once without a valid token
   * (GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP): one more is closed at once with 4403.
   */
  wsMaxUnauthenticatedPerAddress: number;
}

export interface ExpiryConfig {
  /** How often the job looks (EXPIRY_CHECK_INTERVAL_SECONDS); 0 turns it off. */
  checkIntervalSeconds: number;
  /** customerExpiring fires this many days before expiresAt (EXPIRY_REMINDER_DAYS); 0: never. */
  reminderDays: number;
}

export interface RetentionConfig {
  /** Authentication attempts (radpostauth) older than this many days are deleted; 0: never. */
  radpostauthDays: number;
  /** Sessions (radacct) stopped more than this many days ago are deleted; 0: never. */
  radacctDays: number;
  /** How often the deletion runs (RETENTION_INTERVAL_SECONDS). */
  intervalSeconds: number;
}

export interface WebhookConfig {
  url: string;
  /** Signs every delivery (HMAC-SHA256); never logged. */
  secret: string;
  /** How long an event is tried (WEBHOOK_RETRY_HOURS): then it is logged and dropped. */
  retryHours: number;
}

export interface NasConfig {
  /** RFC 5176 CoA/Disconnect: how long to wait for an answer, and how many more tries. */
  coaTimeoutMs: number;
  coaRetries: number;
  /**
   * A bulk push of CoA-Requests gives up on a NAS after this many requests in a row that it
   * left unanswered, and fails its remaining sessions without sending; 0: never.
   */
  coaGiveUpAfterTimeouts: number;
  /**
   * COA_SOURCE_ADDRESS: the local address CoA and Disconnect requests are sent from (a NAS
   * accepts them only from an address it knows: RouterOS's /radius list); null: the kernel's
   * choice. It applies to NAS devices of its family (IPv4 or IPv6) only.
   */
  coaSourceAddress: string | null;
  /** RouterOS API: connect and command timeouts. */
  routerOsTimeoutMs: number;
  /** How often NAS devices with RouterOS API settings are reconciled; 0 turns it off. */
  reconcileIntervalSeconds: number;
}

export interface StaleSessionConfig {
  /** 0 turns stale-session reaping off (sessions are still reported stale). */
  multiplier: number;
  minSeconds: number;
  /** The interim interval assumed for a session that has not sent two updates yet. */
  defaultIntervalSeconds: number;
  /** How often the reaper looks. */
  reapIntervalSeconds: number;
}

const port = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a port number 1-65535, got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    });

const int = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a whole number from ${min} to ${max}, got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    });

const bool = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const s = v.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, got "${v}"` });
      return z.NEVER;
    });

const ipAddress = (name: string, fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      if (isIP(v) === 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be an IP address, got "${v}"` });
        return z.NEVER;
      }
      return v;
    });

/**
 * An optional URL of one of `protocols`. A bad value is refused with `message`, never echoed:
 * such URLs may carry a token or a password.
 */
const urlVar = (protocols: string[], message: string, normalize: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      let url: URL | undefined;
      try {
        url = new URL(v);
      } catch {
        url = undefined;
      }
      if (url === undefined || !protocols.includes(url.protocol)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      try {
        // Its user:password is sent decoded (Basic auth, AUTH): a % must start a %XX escape.
        decodeURIComponent(url.username);
        decodeURIComponent(url.password);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `${message}; a % in its user:password must be written %25`,
        });
        return z.NEVER;
      }
      return normalize ? url.toString() : v;
    });

const webhookUrl = urlVar(
  ['http:', 'https:'],
  'WEBHOOK_URL must be an http:// or https:// URL',
  true,
);

const redisUrl = urlVar(
  ['redis:', 'rediss:'],
  'REDIS_URL must be a redis:// or rediss:// URL (redis://[:password@]host:6379[/db])',
  false,
);

/** A bearer token someone sends in an Authorization header: 16 characters or more, one word. */
const bearerToken = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (v.length < 16 || /\s/.test(v)) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be at least 16 characters with no whitespace`,
        });
        return z.NEVER;
      }
      return v;
    });

const webhookSecret = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    if (v.length < 16) {
      ctx.addIssue({
        code: 'custom',
        message: 'WEBHOOK_SECRET must be at least 16 characters (e.g. `openssl rand -hex 32`)',
      });
      return z.NEVER;
    }
    return v;
  });

/** 32 bytes, as 64 hex digits or base64. */
const secretsKey = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
    if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(v) && key.toString('base64') !== v)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'SECRETS_KEY must be 32 random bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)',
      });
      return z.NEVER;
    }
    return key;
  });

const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const MAX_TRUST_PROXY_HOPS = 10;

/**
 * TRUST_PROXY: a number of hops (1-10), or a comma-separated list of addresses, CIDR ranges
 * and proxy-addr's names (loopback, linklocal, uniquelocal). Never "true": trusting every
 * X-Forwarded-For would let any client pick the address its limits are counted on.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): TrustProxy => {
    const value = v?.trim() ?? '';
    if (value === '') return null;
    const usage = `TRUST_PROXY must be a number of proxy hops (1-${MAX_TRUST_PROXY_HOPS}) or a comma-separated list of proxy addresses, CIDR ranges, ${TRUST_PROXY_NAMES.join(', ')}`;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= MAX_TRUST_PROXY_HOPS) return { hops };
      ctx.addIssue({ code: 'custom', message: `${usage}; got "${v}"` });
      return z.NEVER;
    }
    const addresses = value.split(',').map((a) => a.trim());
    const bad = addresses.filter((a) => !validTrustedProxy(a));
    if (bad.length > 0) {
      const what = ['true', 'all', '*'].includes(value.toLowerCase())
        ? ' (trusting every X-Forwarded-For would let any client choose its address)'
        : '';
      ctx.addIssue({
        code: 'custom',
        message: `${usage}; got "${v}", which has ${bad.map((a) => `"${a}"`).join(', ')}${what}`,
      });
      return z.NEVER;
    }
    return { addresses };
  });

function validTrustedProxy(entry: string): boolean {
  if (entry === '') return false;
  if (TRUST_PROXY_NAMES.includes(entry)) return true;
  // An address, or address/prefix (or /netmask): proxy-addr's own parsing says which it takes.
  if (isIP(entry.split('/')[0]) === 0) return false;
  try {
    proxyAddr.compile(entry);
    return true;
  } catch {
    return false;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;

const envSchema = z.object({
  NODE_ENV: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 'development' as const;
      if (v === 'development' || v === 'production' || v === 'test') return v;
      ctx.addIssue({
        code: 'custom',
        message: `NODE_ENV must be development, production or test, got "${v}"`,
      });
      return z.NEVER;
    }),
  HOST: ipAddress('HOST', '127.0.0.1'),
  PORT: port('PORT', 4000),
  DATA_DIR: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  RUN_MIGRATIONS: bool('RUN_MIGRATIONS', true),
  ADMIN_TOKEN: bearerToken('ADMIN_TOKEN'),
  RADIUS_ACCT_HOST: ipAddress('RADIUS_ACCT_HOST', '127.0.0.1'),
  RADIUS_ACCT_PORT: int('RADIUS_ACCT_PORT', 1813, 0, 65535),
  RADIUS_ACCT_ENABLED: bool('RADIUS_ACCT_ENABLED', true),
  RADIUS_ACCT_RATE_PER_SOURCE: int('RADIUS_ACCT_RATE_PER_SOURCE', 2000, 0, 1_000_000),
  RADIUS_ACCT_BURST_PER_SOURCE: int('RADIUS_ACCT_BURST_PER_SOURCE', 4000, 1, 1_000_000),
  CHANGE_FEED_INTERVAL_MS: int('CHANGE_FEED_INTERVAL_MS', 500, 0, 60_000),
  STALE_SESSION_MULTIPLIER: int('STALE_SESSION_MULTIPLIER', 3, 0, 100),
  STALE_SESSION_MIN_SECONDS: int('STALE_SESSION_MIN_SECONDS', 300, 1, 86_400 * 7),
  STALE_SESSION_DEFAULT_INTERVAL_SECONDS: int(
    'STALE_SESSION_DEFAULT_INTERVAL_SECONDS',
    600,
    1,
    86_400,
  ),
  STALE_SESSION_REAP_INTERVAL_SECONDS: int('STALE_SESSION_REAP_INTERVAL_SECONDS', 60, 1, 86_400),
  SECRETS_KEY: secretsKey,
  COA_TIMEOUT_MS: int('COA_TIMEOUT_MS', 1500, 50, 60_000),
  COA_RETRIES: int('COA_RETRIES', 2, 0, 10),
  COA_GIVE_UP_AFTER_TIMEOUTS: int('COA_GIVE_UP_AFTER_TIMEOUTS', 8, 0, 100_000),
  COA_SOURCE_ADDRESS: ipAddress('COA_SOURCE_ADDRESS', ''),
  ROUTEROS_TIMEOUT_MS: int('ROUTEROS_TIMEOUT_MS', 5000, 100, 60_000),
  NAS_RECONCILE_INTERVAL_SECONDS: int('NAS_RECONCILE_INTERVAL_SECONDS', 300, 0, 86_400),
  CURRENCY_DECIMALS: int('CURRENCY_DECIMALS', 2, 0, MAX_CURRENCY_DECIMALS),
  EXPIRY_CHECK_INTERVAL_SECONDS: int('EXPIRY_CHECK_INTERVAL_SECONDS', 20, 0, 3600),
  EXPIRY_REMINDER_DAYS: int('EXPIRY_REMINDER_DAYS', 3, 0, 365),
  RADPOSTAUTH_RETENTION_DAYS: int('RADPOSTAUTH_RETENTION_DAYS', 0, 0, 36_500),
  RADACCT_RETENTION_DAYS: int('RADACCT_RETENTION_DAYS', 0, 0, 36_500),
  RETENTION_INTERVAL_SECONDS: int('RETENTION_INTERVAL_SECONDS', 3600, 1, 86_400 * 7),
  WEBHOOK_URL: webhookUrl,
  WEBHOOK_SECRET: webhookSecret,
  WEBHOOK_RETRY_HOURS: int('WEBHOOK_RETRY_HOURS', 24, 1, 24 * 30),
  REDIS_URL: redisUrl,
  REDIS_COMMAND_TIMEOUT_MS: int('REDIS_COMMAND_TIMEOUT_MS', 2000, 100, 60_000),
  METRICS_TOKEN: bearerToken('METRICS_TOKEN'),
  GRAPHQL_INTROSPECTION: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const s = v.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({
        code: 'custom',
        message: `GRAPHQL_INTROSPECTION must be true or false, got "${v}"`,
      });
      return z.NEVER;
    }),
  GRAPHQL_MAX_BATCH_SIZE: int('GRAPHQL_MAX_BATCH_SIZE', 20, 1, 500),
  GRAPHQL_MAX_BODY_BYTES: int('GRAPHQL_MAX_BODY_BYTES', 1_048_576, 1024, 100 * 1_048_576),
  GRAPHQL_RATE_LIMIT_PER_MINUTE: int('GRAPHQL_RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
  GRAPHQL_RATE_LIMIT_BURST: int('GRAPHQL_RATE_LIMIT_BURST', 600, 1, 1_000_000),
  GRAPHQL_WS_MAX_OPERATIONS: int('GRAPHQL_WS_MAX_OPERATIONS', 100, 1, 10_000),
  GRAPHQL_WS_AUTH_TIMEOUT_SECONDS: int('GRAPHQL_WS_AUTH_TIMEOUT_SECONDS', 10, 1, 3600),
  GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP: int(
    'GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP',
    20,
    1,
    100_000,
  ),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 'info' as const;
      const level = v.toLowerCase();
      if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
      ctx.addIssue({
        code: 'custom',
        message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`,
      });
      return z.NEVER;
    }),
});

/**
 * The variables that may instead be read from a file named by `<VAR>_FILE` (Docker's
 * convention for secrets: compose and swarm mount them under /run/secrets/).
 */
export const FILE_VARIABLES = [
  'DATABASE_URL',
  'ADMIN_TOKEN',
  'SECRETS_KEY',
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
  'METRICS_TOKEN',
  'REDIS_URL',
] as const satisfies readonly (keyof typeof envSchema.shape)[];

/**
 * Every environment variable radgraph's configuration reads: the schema's keys and the
 * `<VAR>_FILE` variants. Derived from the schema, so it cannot drift from what loadConfig reads.
 */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze([
  ...Object.keys(envSchema.shape),
  ...FILE_VARIABLES.map((name) => `${name}_FILE`),
]);

/**
 * Replaces each `<VAR>_FILE` by `<VAR>`, read from that file without its trailing newline.
 * Setting both is a problem, as is a file that cannot be read or is empty (an empty
 * DATABASE_URL would silently mean the embedded SQLite file). The problems name the
 * variables and the path, never the file's content.
 */
function resolveFileVariables(env: NodeJS.ProcessEnv): {
  env: NodeJS.ProcessEnv;
  problems: string[];
} {
  const fromFiles: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of FILE_VARIABLES) {
    const fileVar = `${name}_FILE`;
    const file = env[fileVar];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name} and ${fileVar} are both set: set one of them`);
      continue;
    }
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.push(`${fileVar}: cannot read ${name} from "${file}" (${reason})`);
      continue;
    }
    const value = content.replace(/(\r?\n)+$/, '');
    if (value === '') {
      problems.push(`${fileVar}: the file "${file}" is empty (it should hold ${name})`);
      continue;
    }
    fromFiles[name] = value;
  }
  // Without any file, the environment itself is read (no copy of the whole of process.env).
  return { env: Object.keys(fromFiles).length > 0 ? { ...env, ...fromFiles } : env, problems };
}

/** Parses `DATABASE_URL`: unset is the embedded SQLite file; mysql:// (or mariadb://) is MySQL. */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseConfig {
  if (url === undefined || url === '') {
    return { kind: 'sqlite', file: path.join(dataDir, 'radgraph.sqlite'), from: 'DATA_DIR' };
  }
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '')
      throw new Error('DATABASE_URL sqlite: needs a file path, e.g. sqlite:data/x.sqlite');
    return { kind: 'sqlite', file: path.resolve(file) };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      'DATABASE_URL is not a valid URL (expected mysql://user:password@host:port/database)',
    );
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new Error(
      `DATABASE_URL must start with mysql:// (or mariadb://, or sqlite:), got "${parsed.protocol}//"`,
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new Error('DATABASE_URL must name a database: mysql://user:password@host:port/database');
  }
  const port = parsed.port === '' ? 3306 : Number(parsed.port);
  parsed.protocol = 'mysql:';
  return { kind: 'mysql', url: parsed.toString(), host: parsed.hostname, port, database };
}

/**
 * Validates the whole environment at once and returns the typed configuration. Every
 * problem is reported, each naming its variable; nothing half-valid gets through.
 */
export function loadConfig(rawEnv: NodeJS.ProcessEnv): AppConfig {
  const { env, problems: fileProblems } = resolveFileVariables(rawEnv);
  const result = envSchema.safeParse(env);
  const problems = [
    ...fileProblems,
    ...(result.success ? [] : result.error.issues.map((i) => i.message)),
  ];
  const dataDir = path.resolve(env.DATA_DIR || 'data');
  let database: DatabaseConfig | undefined;
  try {
    database = parseDatabaseUrl(env.DATABASE_URL, dataDir);
  } catch (err) {
    problems.push((err as Error).message);
  }
  // Given by value or by file: a file that could not be read is already a problem of its own.
  const given = (name: (typeof FILE_VARIABLES)[number]) =>
    Boolean(env[name]) || Boolean(rawEnv[`${name}_FILE`]);
  if (env.NODE_ENV === 'production' && !given('ADMIN_TOKEN')) {
    problems.push(
      'ADMIN_TOKEN is required when NODE_ENV=production (radgraph will not generate one in production)',
    );
  }
  if (env.NODE_ENV === 'production' && !given('SECRETS_KEY')) {
    problems.push(
      'SECRETS_KEY is required when NODE_ENV=production: 32 random bytes (`openssl rand -hex 32`) that encrypt RouterOS API passwords at rest',
    );
  }
  if (env.WEBHOOK_URL && !given('WEBHOOK_SECRET')) {
    problems.push(
      'WEBHOOK_SECRET is required when WEBHOOK_URL is set: at least 16 characters (`openssl rand -hex 32`) that sign every delivery',
    );
  }
  if (!result.success || problems.length > 0 || database === undefined) {
    throw new ConfigError(problems);
  }
  const e = result.data;
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    database,
    runMigrations: e.RUN_MIGRATIONS,
    dataDir,
    adminToken: e.ADMIN_TOKEN,
    radiusAcctHost: e.RADIUS_ACCT_HOST,
    radiusAcctPort: e.RADIUS_ACCT_PORT,
    radiusAcctEnabled: e.RADIUS_ACCT_ENABLED,
    radiusAcctRateLimit: {
      perSecond: e.RADIUS_ACCT_RATE_PER_SOURCE,
      burst: e.RADIUS_ACCT_BURST_PER_SOURCE,
    },
    changeFeedIntervalMs: e.CHANGE_FEED_INTERVAL_MS,
    staleSessions: {
      multiplier: e.STALE_SESSION_MULTIPLIER,
      minSeconds: e.STALE_SESSION_MIN_SECONDS,
      defaultIntervalSeconds: e.STALE_SESSION_DEFAULT_INTERVAL_SECONDS,
      reapIntervalSeconds: e.STALE_SESSION_REAP_INTERVAL_SECONDS,
    },
    logLevel: e.LOG_LEVEL,
    secretsKey: e.SECRETS_KEY,
    nas: {
      coaTimeoutMs: e.COA_TIMEOUT_MS,
      coaRetries: e.COA_RETRIES,
      coaGiveUpAfterTimeouts: e.COA_GIVE_UP_AFTER_TIMEOUTS,
      coaSourceAddress: e.COA_SOURCE_ADDRESS || null,
      routerOsTimeoutMs: e.ROUTEROS_TIMEOUT_MS,
      reconcileIntervalSeconds: e.NAS_RECONCILE_INTERVAL_SECONDS,
    },
    currencyDecimals: e.CURRENCY_DECIMALS,
    expiry: {
      checkIntervalSeconds: e.EXPIRY_CHECK_INTERVAL_SECONDS,
      reminderDays: e.EXPIRY_REMINDER_DAYS,
    },
    retention: {
      radpostauthDays: e.RADPOSTAUTH_RETENTION_DAYS,
      radacctDays: e.RADACCT_RETENTION_DAYS,
      intervalSeconds: e.RETENTION_INTERVAL_SECONDS,
    },
    redisUrl: e.REDIS_URL ?? null,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN ?? null,
    webhook:
      e.WEBHOOK_URL !== undefined && e.WEBHOOK_SECRET !== undefined
        ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET, retryHours: e.WEBHOOK_RETRY_HOURS }
        : null,
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION ?? e.NODE_ENV !== 'production',
      maxBatchSize: e.GRAPHQL_MAX_BATCH_SIZE,
      maxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
      rateLimitPerMinute: e.GRAPHQL_RATE_LIMIT_PER_MINUTE,
      rateLimitBurst: e.GRAPHQL_RATE_LIMIT_BURST,
      wsMaxOperations: e.GRAPHQL_WS_MAX_OPERATIONS,
      wsAuthTimeoutSeconds: e.GRAPHQL_WS_AUTH_TIMEOUT_SECONDS,
      wsMaxUnauthenticatedPerAddress: e.GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP,
    },
    trustProxy: e.TRUST_PROXY,
  };
}

/** What the config looks like in a log line: the database password and the token never appear. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  const db =
    config.database.kind === 'mysql'
      ? `mysql://${config.database.host}:${config.database.port}/${config.database.database}`
      : `sqlite:${config.database.file}`;
  return {
    nodeEnv: config.nodeEnv,
    http: `${config.host}:${config.port}`,
    database: db,
    runMigrations: config.runMigrations,
    radiusAccounting: config.radiusAcctEnabled
      ? `${config.radiusAcctHost}:${config.radiusAcctPort}`
      : 'off',
    changeFeedIntervalMs: config.changeFeedIntervalMs,
    logLevel: config.logLevel,
    expiryCheckIntervalSeconds: config.expiry.checkIntervalSeconds,
    retentionDays: `radpostauth ${config.retention.radpostauthDays || 'off'}, radacct ${config.retention.radacctDays || 'off'}`,
    // Host and port only: the URL may carry a password.
    redis: config.redisUrl ? `${new URL(config.redisUrl).host}` : 'off',
    // Only where it goes: a URL's path or query may carry a token.
    webhook: config.webhook ? new URL(config.webhook.url).origin : 'off',
    trustProxy:
      config.trustProxy === null
        ? 'off'
        : 'hops' in config.trustProxy
          ? `${config.trustProxy.hops} hops`
          : config.trustProxy.addresses.join(','),
  };
}
