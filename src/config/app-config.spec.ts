import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CONFIG_VARIABLES,
  ConfigError,
  describeConfig,
  FILE_VARIABLES,
  loadConfig,
  parseDatabaseUrl,
} from './app-config';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has working defaults: embedded SQLite under data/, port 4000, accounting on 127.0.0.1:1813', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 4000,
      database: {
        kind: 'sqlite',
        file: path.resolve('data', 'radgraph.sqlite'),
        from: 'DATA_DIR',
      },
      runMigrations: true,
      adminToken: undefined,
      radiusAcctHost: '127.0.0.1',
      radiusAcctPort: 1813,
      radiusAcctRateLimit: { perSecond: 2000, burst: 4000 },
      logLevel: 'info',
    });
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '40a'],
    ['RADIUS_ACCT_PORT', '-1'],
    ['RADIUS_ACCT_HOST', 'localhost'],
    ['RADIUS_ACCT_RATE_PER_SOURCE', '-1'],
    ['RADIUS_ACCT_RATE_PER_SOURCE', 'fast'],
    ['RADIUS_ACCT_BURST_PER_SOURCE', '0'],
    ['HOST', '999.1.1.1'],
    ['LOG_LEVEL', 'chatty'],
    ['NODE_ENV', 'staging'],
    ['RUN_MIGRATIONS', 'sometimes'],
    ['COA_TIMEOUT_MS', '10'],
    ['COA_RETRIES', '11'],
    ['COA_GIVE_UP_AFTER_TIMEOUTS', '-1'],
    ['ROUTEROS_TIMEOUT_MS', 'x'],
    ['NAS_RECONCILE_INTERVAL_SECONDS', '-5'],
    ['CURRENCY_DECIMALS', '5'],
    ['CURRENCY_DECIMALS', '2.5'],
    ['ADMIN_TOKEN', 'short'],
    ['DATABASE_URL', 'postgres://h/db'],
    ['DATABASE_URL', 'mysql://root@127.0.0.1:3306/'],
    ['DATABASE_URL', 'not a url'],
    ['GRAPHQL_INTROSPECTION', 'maybe'],
    ['GRAPHQL_MAX_BATCH_SIZE', '0'],
    ['GRAPHQL_MAX_BODY_BYTES', '10'],
    ['GRAPHQL_RATE_LIMIT_PER_MINUTE', '-1'],
    ['GRAPHQL_RATE_LIMIT_BURST', '0'],
    ['GRAPHQL_WS_MAX_OPERATIONS', '0'],
    ['GRAPHQL_WS_MAX_OPERATIONS', '10001'],
  ])('refuses %s=%s with a message that names it', (name, value) => {
    const found = problems({ [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0].startsWith(name)).toBe(true);
  });

  it('takes RADIUS_ACCT_RATE_PER_SOURCE (0: off) and RADIUS_ACCT_BURST_PER_SOURCE', () => {
    expect(
      loadConfig({ RADIUS_ACCT_RATE_PER_SOURCE: '0', RADIUS_ACCT_BURST_PER_SOURCE: '10' })
        .radiusAcctRateLimit,
    ).toEqual({ perSecond: 0, burst: 10 });
  });

  it('trusts no proxy by default: the socket is the client (TRUST_PROXY unset or empty)', () => {
    expect(loadConfig({}).trustProxy).toBeNull();
    expect(loadConfig({ TRUST_PROXY: '' }).trustProxy).toBeNull();
    expect(describeConfig(loadConfig({})).trustProxy).toBe('off');
  });

  it('reads TRUST_PROXY as a number of hops (1-10)', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toEqual({ hops: 1 });
    expect(loadConfig({ TRUST_PROXY: '10' }).trustProxy).toEqual({ hops: 10 });
    expect(describeConfig(loadConfig({ TRUST_PROXY: '2' })).trustProxy).toBe('2 hops');
    for (const hops of ['0', '11', '999']) {
      expect(problems({ TRUST_PROXY: hops })).toEqual([
        expect.stringMatching(
          /^TRUST_PROXY must be a number of proxy hops \(1-10\) or a comma-separated list/,
        ),
      ]);
    }
  });

  it('reads TRUST_PROXY as a list of addresses, CIDR ranges and proxy-addr names', () => {
    expect(
      loadConfig({
        TRUST_PROXY: 'loopback, 10.0.0.0/8,192.168.1.7, fd00::/8,linklocal,uniquelocal',
      }).trustProxy,
    ).toEqual({
      addresses: ['loopback', '10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'linklocal', 'uniquelocal'],
    });
    expect(describeConfig(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' })).trustProxy).toBe(
      'loopback,10.0.0.0/8',
    );
  });

  it('refuses a TRUST_PROXY that would trust every X-Forwarded-For, or that it cannot read, naming it', () => {
    for (const value of ['true', 'TRUE', 'all', '*']) {
      const [problem] = problems({ TRUST_PROXY: value });
      expect(problem).toMatch(/^TRUST_PROXY must be/);
      expect(problem).toContain('trusting every X-Forwarded-For would let any client choose');
    }
    for (const value of [
      'false',
      'yes',
      'nginx',
      '10.0.0.0/33',
      '300.1.1.1',
      'loopback,,10.0.0.1',
      '10.0.0.0/8 10.1.0.0/16',
      '-1',
      '1.5',
    ]) {
      const list = problems({ TRUST_PROXY: value });
      expect(list).toHaveLength(1);
      expect(list[0]).toMatch(/^TRUST_PROXY must be a number of proxy hops/);
      expect(list[0]).toContain(`got "${value}"`);
    }
    expect(problems({ TRUST_PROXY: 'loopback,nginx,10.0.0.0/99' })[0]).toContain(
      'which has "nginx", "10.0.0.0/99"',
    );
  });

  it('has GraphQL limits, with introspection off in production unless GRAPHQL_INTROSPECTION=true', () => {
    expect(loadConfig({}).graphql).toEqual({
      introspection: true,
      maxBatchSize: 20,
      maxBodyBytes: 1_048_576,
      rateLimitPerMinute: 600,
      rateLimitBurst: 600,
      wsMaxOperations: 100,
      wsAuthTimeoutSeconds: 10,
      wsMaxUnauthenticatedPerAddress: 20,
    });
    expect(loadConfig({ GRAPHQL_WS_MAX_OPERATIONS: '5' }).graphql.wsMaxOperations).toBe(5);
    expect(loadConfig({ GRAPHQL_WS_AUTH_TIMEOUT_SECONDS: '3' }).graphql.wsAuthTimeoutSeconds).toBe(
      3,
    );
    expect(() => loadConfig({ GRAPHQL_WS_AUTH_TIMEOUT_SECONDS: '0' })).toThrow(
      /GRAPHQL_WS_AUTH_TIMEOUT_SECONDS must be a whole number from 1 to 3600/,
    );
    expect(() => loadConfig({ GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP: 'many' })).toThrow(
      /GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP must be a whole number/,
    );
    const production = {
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a'.repeat(16),
      SECRETS_KEY: 'ab'.repeat(32),
    };
    expect(loadConfig(production).graphql.introspection).toBe(false);
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).graphql.introspection).toBe(
      true,
    );
  });

  it('takes CURRENCY_DECIMALS from 0 to 4, 2 by default', () => {
    expect(loadConfig({}).currencyDecimals).toBe(2);
    expect(loadConfig({ CURRENCY_DECIMALS: '0' }).currencyDecimals).toBe(0);
    expect(loadConfig({ CURRENCY_DECIMALS: '4' }).currencyDecimals).toBe(4);
  });

  it('reports every bad variable at once', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'y', DATABASE_URL: 'z://' })).toHaveLength(3);
  });

  it('requires ADMIN_TOKEN and SECRETS_KEY in production', () => {
    const found = problems({ NODE_ENV: 'production' });
    expect(found[0]).toMatch(/^ADMIN_TOKEN is required/);
    expect(found[1]).toMatch(/^SECRETS_KEY is required/);
    const config = loadConfig({
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a'.repeat(32),
      SECRETS_KEY: 'ab'.repeat(32),
    });
    expect(config.adminToken).toBe('a'.repeat(32));
    expect(config.secretsKey).toEqual(Buffer.alloc(32, 0xab));
  });

  it('takes SECRETS_KEY as 64 hex digits or base64 of 32 bytes, nothing else', () => {
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ SECRETS_KEY: b64 }).secretsKey).toEqual(Buffer.alloc(32, 7));
    for (const bad of ['ab'.repeat(31), 'not a key', Buffer.alloc(16).toString('base64')]) {
      const found = problems({ SECRETS_KEY: bad });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^SECRETS_KEY must be 32 random bytes/);
      expect(found[0]).not.toContain(bad);
    }
  });

  it('reads RUN_MIGRATIONS=false and LOG_LEVEL case-insensitively', () => {
    const config = loadConfig({ RUN_MIGRATIONS: 'false', LOG_LEVEL: 'DEBUG' });
    expect(config.runMigrations).toBe(false);
    expect(config.logLevel).toBe('debug');
  });

  it('never shows the database password or the token in describeConfig', () => {
    const config = loadConfig({
      DATABASE_URL: 'mysql://radius:hunter2-secret@db.example:3307/radius',
      ADMIN_TOKEN: 'token-that-must-not-leak-0001',
    });
    const text = JSON.stringify(describeConfig(config));
    expect(text).toContain('mysql://db.example:3307/radius');
    expect(text).not.toContain('hunter2-secret');
    expect(text).not.toContain('token-that-must-not-leak');
  });

  it('runs the expiry job every 20 s with reminders 3 days ahead, and no webhook, by default', () => {
    const config = loadConfig({});
    expect(config.expiry).toEqual({ checkIntervalSeconds: 20, reminderDays: 3 });
    expect(config.webhook).toBeNull();
    const off = loadConfig({ EXPIRY_CHECK_INTERVAL_SECONDS: '0', EXPIRY_REMINDER_DAYS: '0' });
    expect(off.expiry).toEqual({ checkIntervalSeconds: 0, reminderDays: 0 });
  });

  it("keeps FreeRADIUS's logs for ever by default, and takes retention days and the interval", () => {
    expect(loadConfig({}).retention).toEqual({
      radpostauthDays: 0,
      radacctDays: 0,
      intervalSeconds: 3600,
    });
    const set = loadConfig({
      RADPOSTAUTH_RETENTION_DAYS: '30',
      RADACCT_RETENTION_DAYS: '730',
      RETENTION_INTERVAL_SECONDS: '600',
    });
    expect(set.retention).toEqual({ radpostauthDays: 30, radacctDays: 730, intervalSeconds: 600 });
    expect(describeConfig(set).retentionDays).toBe('radpostauth 30, radacct 730');
    expect(describeConfig(loadConfig({})).retentionDays).toBe('radpostauth off, radacct off');
    const bad = problems({ RADACCT_RETENTION_DAYS: '-1', RETENTION_INTERVAL_SECONDS: '0' });
    expect(bad).toHaveLength(2);
    expect(bad.join('\n')).toMatch(/RADACCT_RETENTION_DAYS/);
    expect(bad.join('\n')).toMatch(/RETENTION_INTERVAL_SECONDS/);
  });

  it("sends CoA from the kernel's choice of address unless COA_SOURCE_ADDRESS names one", () => {
    expect(loadConfig({}).nas.coaSourceAddress).toBeNull();
    expect(loadConfig({ COA_SOURCE_ADDRESS: '10.0.0.5' }).nas.coaSourceAddress).toBe('10.0.0.5');
    expect(loadConfig({ COA_SOURCE_ADDRESS: '2001:db8::5' }).nas.coaSourceAddress).toBe(
      '2001:db8::5',
    );
    expect(problems({ COA_SOURCE_ADDRESS: 'router.example' })).toEqual([
      expect.stringMatching(/COA_SOURCE_ADDRESS must be an IP address/),
    ]);
  });

  it('gives a publish to Redis 2 s for its answer by default', () => {
    expect(loadConfig({}).redisCommandTimeoutMs).toBe(2000);
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '500' }).redisCommandTimeoutMs).toBe(500);
  });

  it.each([
    ['REDIS_COMMAND_TIMEOUT_MS', '0'],
    ['REDIS_COMMAND_TIMEOUT_MS', '60001'],
    ['EXPIRY_CHECK_INTERVAL_SECONDS', '-1'],
    ['EXPIRY_CHECK_INTERVAL_SECONDS', '3601'],
    ['EXPIRY_REMINDER_DAYS', 'three'],
    ['EXPIRY_REMINDER_DAYS', '366'],
  ])('refuses %s=%s with a message that names it', (name, value) => {
    const found = problems({ [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0].startsWith(name)).toBe(true);
  });

  it('requires WEBHOOK_SECRET with WEBHOOK_URL, and never shows either secret', () => {
    const url = 'https://hooks.example/radgraph?token=url-token-must-not-leak';
    const missing = problems({ WEBHOOK_URL: url });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^WEBHOOK_SECRET is required when WEBHOOK_URL is set/);
    const short = problems({ WEBHOOK_URL: url, WEBHOOK_SECRET: 'short-secret' });
    expect(short).toHaveLength(1);
    expect(short[0]).toMatch(/^WEBHOOK_SECRET must be at least 16 characters/);
    expect(short[0]).not.toContain('short-secret');
    // A % that starts no escape in its password: the sender could not decode it for Basic auth.
    const percent = problems({
      WEBHOOK_URL: 'https://billing:50%off@hooks.example.com/x',
      WEBHOOK_SECRET: 's'.repeat(32),
    });
    expect(percent).toEqual([
      expect.stringMatching(
        /^WEBHOOK_URL must be .*; a % in its user:password must be written %25/,
      ),
    ]);
    expect(percent.join('\n')).not.toContain('50%off');
    const bad = problems({ WEBHOOK_URL: 'ftp://x/y', WEBHOOK_SECRET: 's'.repeat(32) });
    expect(bad).toEqual(['WEBHOOK_URL must be an http:// or https:// URL']);

    const config = loadConfig({ WEBHOOK_URL: url, WEBHOOK_SECRET: 'secret-that-must-not-leak' });
    expect(config.webhook).toEqual({ url, secret: 'secret-that-must-not-leak', retryHours: 24 });
    expect(
      loadConfig({ WEBHOOK_URL: url, WEBHOOK_SECRET: 's'.repeat(32), WEBHOOK_RETRY_HOURS: '2' })
        .webhook?.retryHours,
    ).toBe(2);
    expect(
      problems({ WEBHOOK_URL: url, WEBHOOK_SECRET: 's'.repeat(32), WEBHOOK_RETRY_HOURS: '0' }),
    ).toEqual([expect.stringMatching(/^WEBHOOK_RETRY_HOURS/)]);
    const text = JSON.stringify(describeConfig(config));
    expect(text).toContain('https://hooks.example');
    expect(text).not.toContain('secret-that-must-not-leak');
    expect(text).not.toContain('url-token-must-not-leak');
  });
});

describe('parseDatabaseUrl', () => {
  it('parses mysql:// and mariadb:// URLs, with the default port', () => {
    expect(parseDatabaseUrl('mysql://u:p@db:3307/radius', '/d')).toMatchObject({
      kind: 'mysql',
      host: 'db',
      port: 3307,
      database: 'radius',
    });
    expect(parseDatabaseUrl('mariadb://u@db/radius', '/d')).toMatchObject({
      kind: 'mysql',
      port: 3306,
    });
  });

  it('takes sqlite:<path> and the embedded default', () => {
    expect(parseDatabaseUrl('sqlite:/tmp/x.sqlite', '/d')).toEqual({
      kind: 'sqlite',
      file: '/tmp/x.sqlite',
    });
    expect(parseDatabaseUrl(undefined, '/d')).toEqual({
      kind: 'sqlite',
      file: '/d/radgraph.sqlite',
      from: 'DATA_DIR',
    });
  });
});

describe('<VAR>_FILE (Docker secrets)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'radgraph-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function secretFile(name: string, content: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  const PRODUCTION_VALUES: Record<(typeof FILE_VARIABLES)[number], string> = {
    DATABASE_URL: 'mysql://radgraph:pw-from-file@mariadb:3306/radgraph',
    ADMIN_TOKEN: 'admin-token-from-a-file-0001',
    SECRETS_KEY: 'cd'.repeat(32),
    WEBHOOK_URL: 'https://hooks.example/radgraph',
    WEBHOOK_SECRET: 'webhook-secret-from-a-file',
    METRICS_TOKEN: 'metrics-token-from-a-file',
    REDIS_URL: 'redis://:redis-pw@redis:6379/2',
  };

  it('reads every secret variable from the file its _FILE names, without the trailing newline', () => {
    const env: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
    for (const name of FILE_VARIABLES) {
      // LF, CRLF and several newlines are all trimmed; so the value is exactly the line.
      const ending = name === 'ADMIN_TOKEN' ? '\r\n' : name === 'REDIS_URL' ? '\n\n' : '\n';
      env[`${name}_FILE`] = secretFile(name.toLowerCase(), PRODUCTION_VALUES[name] + ending);
    }
    const config = loadConfig(env);
    expect(config.database).toMatchObject({
      kind: 'mysql',
      host: 'mariadb',
      port: 3306,
      database: 'radgraph',
    });
    expect(config.database.kind === 'mysql' && new URL(config.database.url).password).toBe(
      'pw-from-file',
    );
    expect(config.adminToken).toBe(PRODUCTION_VALUES.ADMIN_TOKEN);
    expect(config.secretsKey).toEqual(Buffer.alloc(32, 0xcd));
    expect(config.webhook).toEqual({
      url: PRODUCTION_VALUES.WEBHOOK_URL,
      secret: PRODUCTION_VALUES.WEBHOOK_SECRET,
      retryHours: 24,
    });
    expect(config.metricsToken).toBe(PRODUCTION_VALUES.METRICS_TOKEN);
    expect(config.redisUrl).toBe(PRODUCTION_VALUES.REDIS_URL);
  });

  it('keeps a value that only ends in spaces as it is, and validates it like the variable', () => {
    const found = problems({ ADMIN_TOKEN_FILE: secretFile('t', 'a-long-enough-token-01 \n') });
    expect(found).toEqual(['ADMIN_TOKEN must be at least 16 characters with no whitespace']);
    const bad = problems({ SECRETS_KEY_FILE: secretFile('k', 'not-a-key-at-all\n') });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^SECRETS_KEY must be 32 random bytes/);
    expect(bad[0]).not.toContain('not-a-key-at-all');
  });

  it.each(FILE_VARIABLES.map((name) => [name]))(
    'refuses %s together with its _FILE, naming both',
    (name) => {
      const file = secretFile('value', PRODUCTION_VALUES[name]);
      const found = problems({ [name]: PRODUCTION_VALUES[name], [`${name}_FILE`]: file });
      expect(found).toContain(`${name} and ${name}_FILE are both set: set one of them`);
    },
  );

  it('refuses a file it cannot read, naming the variable and the path, and nothing else', () => {
    const missing = path.join(dir, 'no-such-secret');
    const found = problems({
      NODE_ENV: 'production',
      ADMIN_TOKEN_FILE: missing,
      SECRETS_KEY_FILE: dir, // a directory
    });
    // The missing files are the problems; "ADMIN_TOKEN is required" would only be noise.
    expect(found).toEqual([
      `ADMIN_TOKEN_FILE: cannot read ADMIN_TOKEN from "${missing}" (ENOENT)`,
      `SECRETS_KEY_FILE: cannot read SECRETS_KEY from "${dir}" (EISDIR)`,
    ]);
  });

  it('refuses an empty file: an empty DATABASE_URL must not fall back to SQLite', () => {
    const file = secretFile('empty', '\n');
    expect(problems({ DATABASE_URL_FILE: file })).toEqual([
      `DATABASE_URL_FILE: the file "${file}" is empty (it should hold DATABASE_URL)`,
    ]);
  });

  it('ignores an empty _FILE, and an empty variable beside a _FILE, like any unset variable', () => {
    expect(loadConfig({ DATABASE_URL_FILE: '' }).database.kind).toBe('sqlite');
    const file = secretFile('url', 'redis://redis:6379');
    expect(loadConfig({ REDIS_URL: '', REDIS_URL_FILE: file }).redisUrl).toBe('redis://redis:6379');
  });

  it('never shows a value read from a file in its problems or in describeConfig', () => {
    const url = secretFile('db', 'postgres://u:file-pw-must-not-leak@h/db\n');
    const found = problems({ DATABASE_URL_FILE: url });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^DATABASE_URL must start with mysql:\/\//);
    expect(found.join('\n')).not.toContain('file-pw-must-not-leak');
    const config = loadConfig({
      DATABASE_URL_FILE: secretFile('ok', 'mysql://u:file-pw-must-not-leak@h/db'),
    });
    expect(JSON.stringify(describeConfig(config))).not.toContain('file-pw-must-not-leak');
  });
});

describe('CONFIG_VARIABLES', () => {
  /** Runs loadConfig on an empty environment that records every name it looks up. */
  function namesRead(base: NodeJS.ProcessEnv): Set<string> {
    const read = new Set<string>();
    const env = new Proxy(base, {
      get(target, key) {
        if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*$/.test(key)) read.add(key);
        return Reflect.get(target, key) as unknown;
      },
    });
    try {
      loadConfig(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
    return read;
  }

  it('is exactly the variables loadConfig reads, with a _FILE for each secret', () => {
    const read = new Set([
      ...namesRead({}),
      ...namesRead({ NODE_ENV: 'production', WEBHOOK_URL: 'https://h.example/x' }),
    ]);
    expect([...read].sort()).toEqual([...CONFIG_VARIABLES].sort());
    expect(new Set(CONFIG_VARIABLES).size).toBe(CONFIG_VARIABLES.length);
    for (const name of ['DATA_DIR', 'DATABASE_URL', 'NODE_ENV', 'ADMIN_TOKEN', 'RUN_MIGRATIONS']) {
      expect(CONFIG_VARIABLES).toContain(name);
    }
    for (const name of FILE_VARIABLES) expect(CONFIG_VARIABLES).toContain(`${name}_FILE`);
  });

  it("are all in the README's configuration table, and the table has no others", () => {
    const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
    const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` /gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});
