import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/app-config';

/**
 * docker/docker-compose.yml against what it runs, without a Docker engine: radgraph's
 * configuration schema, radius-config/ and scripts/freeradius.sh (what the end-to-end tests
 * run), docker/Dockerfile, and docker/up.sh, which creates the secrets.
 *
 * `docker compose config -q` is deliberately not part of it. It needs no engine, but it needs
 * the compose plugin, and the docker CLI on the machines that run these tests has none
 * (`docker: unknown command: docker compose`), so the check could only ever be skipped. The
 * parsing below covers what it would catch in this file (YAML, references between services,
 * secrets and volumes, interpolation) and checks much more.
 */

const ROOT = path.resolve(__dirname, '../..');
const DOCKER_DIR = path.join(ROOT, 'docker');
const COMPOSE_FILE = path.join(DOCKER_DIR, 'docker-compose.yml');
const DOCKERFILE = path.join(DOCKER_DIR, 'Dockerfile');
const OVERLAY_DIR = path.join(ROOT, 'radius-config');
const FREERADIUS_SCRIPT = path.join(ROOT, 'scripts', 'freeradius.sh');
/** The raddb of the upstream image (FreeRADIUS's own Debian packaging: raddbdir=/etc/freeradius). */
const IMAGE_RADDB = '/etc/freeradius';
const SECRETS_DIR = '/run/secrets/';

type Yaml = any;

interface Port {
  host: number;
  container: number;
  protocol: 'tcp' | 'udp';
}

interface Mount {
  type: string;
  source: string;
  target: string;
  readOnly: boolean;
}

const compose: Yaml = parse(readFileSync(COMPOSE_FILE, 'utf8'));
const services: Record<string, Yaml> = compose?.services ?? {};

function service(name: string): Yaml {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** A YAML scalar as a string (compose takes numbers and booleans as their text). */
function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new Error(`expected a string, a number or a boolean, got ${JSON.stringify(value)}`);
}

/**
 * A value as compose reads it: `$$` is a literal `$`; `${VAR:-default}` and `${VAR-default}`
 * become their default; any other `${VAR…}` or `$VAR` is interpolated from the caller's shell.
 * `shell`: the caller's variables, when the test knows them (none by default).
 */
function interpolate(
  raw: unknown,
  shell: NodeJS.ProcessEnv = {},
): { value: string; interpolated: boolean } {
  let interpolated = false;
  const value = scalar(raw).replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      interpolated = true;
      return shell[braced ?? bare ?? ''] || (fallback ?? '');
    },
  );
  return { value, interpolated };
}

/** A service's environment: the `environment:` map or list, then any `env_file`. */
function environment(svc: Yaml): Record<string, string> {
  const env: Record<string, string> = {};
  const files: unknown[] = [svc.env_file ?? []].flat();
  for (const entry of files) {
    const file = path.resolve(
      DOCKER_DIR,
      typeof entry === 'string' ? entry : String((entry as { path: string }).path),
    );
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new Error(
        `env_file ${file} is not in the repository, so its variables cannot be checked`,
      );
    }
    for (const line of text.split('\n')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (m) env[m[1]] = m[2];
    }
  }
  const declared = svc.environment ?? {};
  const pairs: [string, unknown][] = Array.isArray(declared)
    ? declared.map((item: string) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, ''] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(declared);
  for (const [name, value] of pairs) env[name] = scalar(value);
  return env;
}

/** The value of `name` in a service's environment, after compose's interpolation. */
function envValue(svc: Yaml, name: string): string {
  const raw = environment(svc)[name];
  if (raw === undefined) throw new Error(`the service sets no ${name}`);
  return interpolate(raw).value;
}

function ports(svc: Yaml): Port[] {
  return ((svc.ports ?? []) as unknown[]).map((entry) => {
    if (typeof entry === 'object' && entry !== null) {
      const e = entry as { target: unknown; published: unknown; protocol?: string };
      return {
        host: Number(interpolate(e.published).value),
        container: Number(e.target),
        protocol: (e.protocol ?? 'tcp') as Port['protocol'],
      };
    }
    const [spec, protocol = 'tcp'] = interpolate(entry).value.split('/');
    const parts = spec.split(':');
    const container = Number(parts[parts.length - 1]);
    const host = parts.length > 1 ? Number(parts[parts.length - 2]) : NaN;
    return { host, container, protocol: protocol as Port['protocol'] };
  });
}

function mounts(svc: Yaml): Mount[] {
  return ((svc.volumes ?? []) as unknown[]).map((entry) => {
    if (typeof entry === 'object' && entry !== null) {
      const e = entry as { type: string; source: string; target: string; read_only?: boolean };
      return { type: e.type, source: e.source, target: e.target, readOnly: e.read_only === true };
    }
    const [source, target, options = ''] = String(entry).split(':');
    const type = /^[./~]/.test(source) ? 'bind' : 'volume';
    return { type, source, target, readOnly: options.split(',').includes('ro') };
  });
}

function dependsOn(svc: Yaml): Record<string, string> {
  const declared = svc.depends_on ?? {};
  if (Array.isArray(declared)) {
    return Object.fromEntries(declared.map((name: string) => [name, 'service_started']));
  }
  return Object.fromEntries(
    Object.entries(declared as Record<string, { condition?: string }>).map(([name, d]) => [
      name,
      d?.condition ?? 'service_started',
    ]),
  );
}

function healthcheckText(svc: Yaml): string {
  const test: unknown = svc.healthcheck?.test;
  return Array.isArray(test) ? test.map(scalar).join(' ') : scalar(test);
}

/** The one port a service listens on inside the compose network (its `expose`). */
function exposedPort(svc: Yaml): number {
  const exposed = ((svc.expose ?? []) as unknown[]).map((p) => Number(String(p).split('/')[0]));
  expect(exposed).toHaveLength(1);
  return exposed[0];
}

/** `/run/secrets/<name>` → the secret's name, which the service must have been given. */
function secretNamed(svc: Yaml, file: string): string {
  expect(file.startsWith(SECRETS_DIR)).toBe(true);
  const name = file.slice(SECRETS_DIR.length);
  const given = ((svc.secrets ?? []) as unknown[]).map((s) =>
    typeof s === 'string' ? s : String((s as { source: string }).source),
  );
  expect(given).toContain(name);
  return name;
}

/** The Dockerfile's EXPOSE ports, as `<port>/<protocol>`. */
function dockerfileExposes(): string[] {
  const text = readFileSync(DOCKERFILE, 'utf8');
  return [...text.matchAll(/^EXPOSE\s+(.+)$/gm)]
    .flatMap((m) => m[1].trim().split(/\s+/))
    .map((p) => (p.includes('/') ? p : `${p}/tcp`));
}

/** Files and links of the overlay, relative to radius-config/ (links are not followed). */
function overlayEntries(dir = OVERLAY_DIR, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    const full = path.join(dir, name);
    return lstatSync(full).isDirectory() ? overlayEntries(full, rel) : [rel];
  });
}

/** docker/up.sh --secrets-only, with the secrets in `dir`/docker/secrets. */
function createSecrets(dir: string) {
  return spawnSync('bash', [path.join(DOCKER_DIR, 'up.sh'), '--secrets-only'], {
    env: { ...process.env, RADGRAPH_SECRETS_DIR: path.join(dir, 'docker', 'secrets') },
    encoding: 'utf8',
  });
}

function runSh(script: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv; args?: string[] }) {
  return spawnSync('/bin/sh', ['-ec', script, ...(opts.args ?? [])], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
  });
}

describe('docker/docker-compose.yml', () => {
  it('has the four services: MariaDB 10.11, Redis 7, radgraph built from docker/Dockerfile, FreeRADIUS 3.2', () => {
    expect(Object.keys(services).sort()).toEqual(['freeradius', 'mariadb', 'radgraph', 'redis']);
    expect(service('mariadb').image).toMatch(/^mariadb:10\.11(\.\d+)?$/);
    expect(service('redis').image).toMatch(/^redis:7(\.\d+)*(-[a-z]+)?$/);
    expect(service('freeradius').image).toMatch(/^freeradius\/freeradius-server:3\.2\.\d+$/);
    const build = service('radgraph').build;
    expect(path.resolve(DOCKER_DIR, build.context)).toBe(ROOT);
    expect(path.resolve(ROOT, build.dockerfile)).toBe(DOCKERFILE);
    expect(statSync(DOCKERFILE).isFile()).toBe(true);
  });

  it('starts from the one command the README shows', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## Docker compose$/m)[1]?.split(/^## /m)[0] ?? '';
    const first = /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1].trim();
    expect(first).toBe('docker/up.sh');
    const up = readFileSync(path.join(DOCKER_DIR, 'up.sh'), 'utf8');
    expect(up).toContain('docker compose -f "$here/docker-compose.yml" up -d --build --wait');
    expect(statSync(path.join(DOCKER_DIR, 'up.sh')).mode & 0o111).not.toBe(0);
  });

  it('passes radgraph only variables that its configuration knows', () => {
    const unknown = Object.keys(environment(service('radgraph'))).filter(
      (name) => !CONFIG_VARIABLES.includes(name),
    );
    expect(unknown).toEqual([]);
  });

  describe('with the secrets docker/up.sh creates', () => {
    let dir: string;
    let secretFiles: Record<string, string>;

    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'radgraph-compose-'));
      const created = createSecrets(dir);
      if (created.status !== 0) {
        throw new Error(`docker/up.sh --secrets-only failed:\n${created.stdout}${created.stderr}`);
      }
      secretFiles = {};
      for (const [name, secret] of Object.entries(compose.secrets as Record<string, Yaml>)) {
        const file = interpolate(secret.file).value;
        expect(file).toMatch(/^\.\/secrets\/[\w.-]+$/);
        secretFiles[name] = path.join(dir, 'docker', file);
      }
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const read = (name: string) => readFileSync(secretFiles[name], 'utf8');

    it('creates every secret file the compose file names, and never overwrites one', () => {
      const before = Object.fromEntries(Object.keys(secretFiles).map((n) => [n, read(n)]));
      // Readable inside the containers (bind mounts keep the host's owner and mode), and
      // on the host by nobody but the owner (the directory).
      for (const file of Object.values(secretFiles)) {
        expect((statSync(file).mode & 0o777).toString(8)).toBe('644');
      }
      expect((statSync(path.dirname(secretFiles.admin_token)).mode & 0o777).toString(8)).toBe(
        '700',
      );
      for (const content of Object.values(before)) expect(content.trim()).not.toBe('');
      writeFileSync(secretFiles.admin_token, 'kept-as-it-is-0123456789\n');
      chmodSync(secretFiles.secrets_key, 0o600); // made earlier under a stricter umask
      const again = createSecrets(dir);
      expect(again.status).toBe(0);
      for (const name of Object.keys(secretFiles)) {
        expect(read(name)).toBe(
          name === 'admin_token' ? 'kept-as-it-is-0123456789\n' : before[name],
        );
      }
      expect((statSync(secretFiles.secrets_key).mode & 0o777).toString(8)).toBe('644');
      writeFileSync(secretFiles.admin_token, before.admin_token);
    });

    it('says so when docker has no compose plugin, after creating the secrets', () => {
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      // A docker CLI without the plugin: `docker compose …` is an unknown command.
      writeFileSync(
        path.join(bin, 'docker'),
        '#!/bin/sh\n[ "$1" = compose ] && { echo "docker: unknown command: docker compose" >&2; exit 1; }\nexit 0\n',
      );
      chmodSync(path.join(bin, 'docker'), 0o755);
      const up = spawnSync('bash', [path.join(DOCKER_DIR, 'up.sh')], {
        env: {
          PATH: `${bin}:/usr/bin:/bin`,
          RADGRAPH_SECRETS_DIR: path.join(dir, 'docker', 'secrets'),
        },
        encoding: 'utf8',
      });
      expect(up.status).toBe(1);
      expect(up.stderr).toBe(
        "docker's compose plugin is not installed: https://docs.docker.com/compose/install/linux/\n",
      );
    });

    it('starts compose on the secrets it created, also with RADGRAPH_SECRETS_DIR elsewhere (relative to where it runs)', () => {
      const bin = path.join(dir, 'bin-compose');
      mkdirSync(bin);
      const calls = path.join(dir, 'compose-calls');
      // A docker CLI with the plugin that records the `up`, and the variables it was run with.
      writeFileSync(
        path.join(bin, 'docker'),
        `#!/bin/sh\n[ "$2" = version ] && exit 0\necho "RADGRAPH_SECRETS_DIR=$RADGRAPH_SECRETS_DIR $*" >> ${calls}\n`,
      );
      chmodSync(path.join(bin, 'docker'), 0o755);
      const up = spawnSync('bash', [path.join(DOCKER_DIR, 'up.sh')], {
        cwd: dir,
        env: { PATH: `${bin}:/usr/bin:/bin`, RADGRAPH_SECRETS_DIR: 'elsewhere/secrets' },
        encoding: 'utf8',
      });
      expect(up.stderr).toBe('');
      expect(up.status).toBe(0);
      const [call] = readFileSync(calls, 'utf8').trim().split('\n');
      const shell = { RADGRAPH_SECRETS_DIR: /^RADGRAPH_SECRETS_DIR=(\S*)/.exec(call)![1] };
      for (const [name, secret] of Object.entries(compose.secrets as Record<string, Yaml>)) {
        // Compose reads a relative file from the compose file's directory.
        const file = path.resolve(DOCKER_DIR, interpolate(secret.file, shell).value);
        expect({ name, file }).toEqual({
          name,
          file: path.join(dir, 'elsewhere', 'secrets', `${name}.txt`),
        });
        expect(statSync(file).size).toBeGreaterThan(0);
      }
    });

    it("loads radgraph's configuration from its compose environment, on mariadb and redis", () => {
      const radgraph = service('radgraph');
      const mariadb = service('mariadb');
      const env: NodeJS.ProcessEnv = {};
      for (const name of Object.keys(environment(radgraph))) {
        const value = envValue(radgraph, name);
        env[name] = name.endsWith('_FILE') ? secretFiles[secretNamed(radgraph, value)] : value;
      }
      const config = loadConfig(env);

      expect(config.nodeEnv).toBe('production');
      expect(config.runMigrations).toBe(true);
      expect(config.adminToken).toBeDefined();
      expect(config.secretsKey).toBeDefined();
      // /metrics is on the published port, and its labels name the NAS routers.
      expect(config.metricsToken).toMatch(/^\S{16,}$/);
      // Reachable through the published ports: not bound to the container's loopback.
      expect(config.host).toBe('0.0.0.0');
      expect(config.radiusAcctEnabled).toBe(true);
      expect(config.radiusAcctHost).toBe('0.0.0.0');

      expect(config.database.kind).toBe('mysql');
      if (config.database.kind !== 'mysql') return;
      expect(config.database.host).toBe('mariadb');
      expect(config.database.port).toBe(exposedPort(mariadb));
      expect(config.database.database).toBe(envValue(mariadb, 'MARIADB_DATABASE'));
      const url = new URL(config.database.url);
      expect(decodeURIComponent(url.username)).toBe(envValue(mariadb, 'MARIADB_USER'));
      const dbPassword = secretNamed(mariadb, envValue(mariadb, 'MARIADB_PASSWORD_FILE'));
      expect(decodeURIComponent(url.password)).toBe(read(dbPassword).trim());

      expect(config.redisUrl).not.toBeNull();
      const redis = new URL(config.redisUrl!);
      expect(redis.hostname).toBe('redis');
      expect(Number(redis.port || 6379)).toBe(exposedPort(service('redis')));
      expect(services[redis.hostname]).toBeDefined();
    });
  });

  it("publishes radgraph's PORT and RADIUS_ACCT_PORT, which the Dockerfile exposes, and checks /ready on PORT", () => {
    const radgraph = service('radgraph');
    const port = Number(envValue(radgraph, 'PORT'));
    const acctPort = Number(envValue(radgraph, 'RADIUS_ACCT_PORT'));
    const expected = [`${port}/tcp`, `${acctPort}/udp`].sort();

    const published = ports(radgraph);
    expect(published.map((p) => `${p.container}/${p.protocol}`).sort()).toEqual(expected);
    for (const p of published) expect(p.host).toBe(p.container);
    expect(dockerfileExposes().sort()).toEqual(expected);

    const check = healthcheckText(radgraph);
    const url = /https?:\/\/127\.0\.0\.1:([^/]+)(\/\w+)/.exec(
      check.replace(/'\+/g, '').replace(/\+'/g, ''),
    );
    expect(url).not.toBeNull();
    expect(url![2]).toBe('/ready');
    expect(['process.env.PORT', String(port)]).toContain(url![1]);
  });

  it('publishes FreeRADIUS authentication on RADIUS_AUTH_PORT, and no host port twice', () => {
    const freeradius = service('freeradius');
    const authPort = Number(envValue(freeradius, 'RADIUS_AUTH_PORT'));
    const acctPort = Number(envValue(freeradius, 'RADIUS_ACCT_PORT'));
    expect(authPort).not.toBe(acctPort);
    expect(ports(freeradius)).toContainEqual({
      host: authPort,
      container: authPort,
      protocol: 'udp',
    });
    for (const p of ports(freeradius)) expect([authPort, acctPort]).toContain(p.container);
    expect(envValue(freeradius, 'RADIUS_LISTEN_ADDR')).not.toMatch(/^(127\.|localhost|::1$)/);

    const hostPorts = Object.values(services).flatMap((svc) =>
      ports(svc).map((p) => `${p.host}/${p.protocol}`),
    );
    expect(hostPorts.filter((p, i) => hostPorts.indexOf(p) !== i)).toEqual([]);
    for (const p of hostPorts) expect(Number(p.split('/')[0])).toBeGreaterThan(0);
  });

  describe('FreeRADIUS runs radius-config/ as scripts/freeradius.sh does', () => {
    const script = readFileSync(FREERADIUS_SCRIPT, 'utf8');

    /** The stock directories the script replaces whole with the overlay's. */
    function replacedDirectories(): string[] {
      const rm = /^rm -rf ((?:"\$raddb\/[\w-]+"\s*)+)$/m.exec(script);
      if (!rm)
        throw new Error('scripts/freeradius.sh no longer removes stock directories as expected');
      return [...rm[1].matchAll(/"\$raddb\/([\w-]+)"/g)].map((m) => m[1]).sort();
    }

    it('mounts every file the script overlays, read-only, over the image raddb', () => {
      // The script copies all of radius-config/ but its README over the stock raddb.
      expect(script).toMatch(/tar --exclude=\.\/README\.md -cf - \./);
      const entries = overlayEntries().filter((e) => e !== 'README.md');
      expect(entries.length).toBeGreaterThan(0);
      const replaced = replacedDirectories();
      expect(replaced).toEqual(['mods-enabled', 'sites-enabled']);

      const binds = mounts(service('freeradius'));
      const mounted: string[] = [];
      for (const m of binds) {
        expect(m).toMatchObject({ type: 'bind', readOnly: true });
        const source = path.resolve(DOCKER_DIR, m.source);
        const rel = path.relative(OVERLAY_DIR, source);
        expect(rel.startsWith('..') || path.isAbsolute(rel)).toBe(false);
        expect(m.target).toBe(`${IMAGE_RADDB}/${rel}`);
        const isDir = statSync(source).isDirectory();
        // A directory mount hides the image's own; only the ones the script replaces may be.
        if (isDir) expect(replaced).toContain(rel);
        mounted.push(rel);
      }
      for (const dir of replaced) expect(mounted).toContain(dir);
      const uncovered = entries.filter(
        (e) => !mounted.some((m) => e === m || e.startsWith(`${m}/`)),
      );
      expect(uncovered).toEqual([]);
    });

    it('has enabled entries that are relative links into the stock layout', () => {
      for (const dir of replacedDirectories()) {
        const available = dir.replace('-enabled', '-available');
        for (const name of readdirSync(path.join(OVERLAY_DIR, dir))) {
          const full = path.join(OVERLAY_DIR, dir, name);
          expect(lstatSync(full).isSymbolicLink()).toBe(true);
          expect(readlinkSync(full)).toBe(`../${available}/${name}`);
        }
      }
    });

    it('sets every $ENV{…} of radius-config/, pointing at the mariadb service', () => {
      const freeradius = service('freeradius');
      const mariadb = service('mariadb');
      const env = environment(freeradius);
      const entrypoint = [freeradius.entrypoint ?? []].flat().join('\n');

      const read = new Set<string>();
      for (const rel of overlayEntries()) {
        if (rel === 'README.md') continue;
        const full = path.join(OVERLAY_DIR, rel);
        if (lstatSync(full).isSymbolicLink()) continue;
        for (const m of readFileSync(full, 'utf8').matchAll(/\$ENV\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
          read.add(m[1]);
        }
      }
      expect([...read]).toEqual(expect.arrayContaining(['RADGRAPH_DB_HOST', 'RADIUS_AUTH_PORT']));
      for (const name of read) {
        if (env[`${name}_FILE`] !== undefined) {
          // The entrypoint turns X_FILE into X (FreeRADIUS knows no _FILE convention).
          expect(entrypoint).toContain(`$\${${name}_FILE`);
        } else {
          expect({ name, value: env[name] }).toEqual({ name, value: expect.any(String) });
          expect(envValue(freeradius, name)).not.toBe('');
        }
      }
      // Nothing else: a misspelt variable would be silently empty in FreeRADIUS.
      const extra = Object.keys(env).filter(
        (name) => !read.has(name) && !read.has(name.replace(/_FILE$/, '')),
      );
      expect(extra).toEqual([]);

      expect(envValue(freeradius, 'RADGRAPH_DB_HOST')).toBe('mariadb');
      expect(Number(envValue(freeradius, 'RADGRAPH_DB_PORT'))).toBe(exposedPort(mariadb));
      expect(envValue(freeradius, 'RADGRAPH_DB_NAME')).toBe(envValue(mariadb, 'MARIADB_DATABASE'));
      // As shipped, FreeRADIUS logs in as radgraph's user (the image creates only that one);
      // with that user, it must use that user's password.
      const user = envValue(freeradius, 'RADGRAPH_DB_USER');
      expect(user).not.toBe('');
      if (user === envValue(mariadb, 'MARIADB_USER')) {
        expect(secretNamed(freeradius, envValue(freeradius, 'RADGRAPH_DB_PASSWORD_FILE'))).toBe(
          secretNamed(mariadb, envValue(mariadb, 'MARIADB_PASSWORD_FILE')),
        );
      }
      expect(['yes', 'no']).toContain(envValue(freeradius, 'RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR'));
    });

    it('reads the password file in its entrypoint and runs freeradius in the foreground', () => {
      const freeradius = service('freeradius');
      const [shell, flag, body, ...args] = [freeradius.entrypoint].flat().map(String);
      expect([shell, flag]).toEqual(['/bin/sh', '-ec']);
      // Every `$` is doubled, or compose would fill it in from the host's shell.
      expect(body.replace(/\$\$/g, '')).not.toContain('$');

      const dir = mkdtempSync(path.join(tmpdir(), 'radgraph-freeradius-entry-'));
      try {
        const stub = path.join(dir, 'freeradius');
        writeFileSync(
          stub,
          '#!/bin/sh\necho "args=$*"\necho "password=$RADGRAPH_DB_PASSWORD"\necho "file=${RADGRAPH_DB_PASSWORD_FILE:-}"\n',
        );
        chmodSync(stub, 0o755);
        const run = (password: string) => {
          writeFileSync(path.join(dir, 'db_password'), password);
          return runSh(interpolate(body).value, {
            args: [...args.slice(0, 1), ...[freeradius.command ?? []].flat().map(String)],
            env: {
              PATH: `${dir}:/usr/bin:/bin`,
              RADGRAPH_DB_PASSWORD_FILE: path.join(dir, 'db_password'),
            },
          });
        };

        const ok = run('s3cret-pw-0123\n');
        expect(ok.stderr).toBe('');
        expect(ok.status).toBe(0);
        expect(ok.stdout).toBe('args=-f -l stdout\npassword=s3cret-pw-0123\nfile=\n');

        const quoted = run('bad"pw');
        expect(quoted.status).not.toBe(0);
        expect(quoted.stdout).toBe('');
        expect(quoted.stderr).toMatch(/RADGRAPH_DB_PASSWORD must not contain a double quote/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('is healthy once a socket is bound to RADIUS_AUTH_PORT, and not before', async () => {
      const check = service('freeradius').healthcheck.test as string[];
      expect(check[0]).toBe('CMD-SHELL');
      expect(check[1].replace(/\$\$/g, '')).not.toContain('$');
      const probe = (port: number) =>
        runSh(interpolate(check[1]).value, {
          env: { PATH: '/usr/bin:/bin', RADIUS_AUTH_PORT: String(port) },
        }).status;

      const socket: Socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const port = socket.address().port;
      try {
        expect(probe(port)).toBe(0);
      } finally {
        await new Promise<void>((resolve) => socket.close(resolve));
      }
      expect(probe(port)).not.toBe(0);
    });
  });

  it('has a healthcheck on every service, and each waits for what it depends on to be healthy', () => {
    for (const [name, svc] of Object.entries(services)) {
      expect({ name, check: healthcheckText(svc) }).toEqual({
        name,
        check: expect.stringMatching(/^(CMD|CMD-SHELL) \S/),
      });
      for (const [dependency, condition] of Object.entries(dependsOn(svc))) {
        expect(services[dependency]?.healthcheck).toBeDefined();
        expect({ name, dependency, condition }).toEqual({
          name,
          dependency,
          condition: 'service_healthy',
        });
      }
    }
    expect(Object.keys(dependsOn(service('radgraph'))).sort()).toEqual(['mariadb', 'redis']);
    expect(Object.keys(dependsOn(service('freeradius'))).sort()).toEqual(['mariadb', 'radgraph']);
    expect(healthcheckText(service('mariadb'))).toMatch(
      /healthcheck\.sh --connect --innodb_initialized|mariadb-admin ping/,
    );
  });

  it('keeps the database and DATA_DIR in named volumes', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const named = (svc: Yaml, target: string) => {
      const m = mounts(svc).find((v) => v.target === target);
      expect(m?.type).toBe('volume');
      expect(declared).toContain(m?.source);
    };
    named(service('mariadb'), '/var/lib/mysql');
    named(service('radgraph'), envValue(service('radgraph'), 'DATA_DIR'));
  });

  it('bakes no secret into the compose file or the Dockerfile', () => {
    const secretName = /(PASSWORD|TOKEN|SECRET|_KEY)$/;
    for (const [name, svc] of Object.entries(services)) {
      const env = environment(svc);
      for (const [variable, raw] of Object.entries(env)) {
        const where = { service: name, variable };
        if (variable.endsWith('_FILE')) {
          secretNamed(svc, interpolate(raw).value);
          continue;
        }
        if (secretName.test(variable)) {
          // Only from the caller's shell, with no default written here.
          expect({ ...where, raw }).toEqual({
            ...where,
            raw: expect.stringMatching(/^\$\{[A-Za-z_]\w*(:?\?[^}]*)?\}$/),
          });
        }
        if (/_URL$/.test(variable) && /^[a-z]+:\/\//.test(raw)) {
          expect({ ...where, password: new URL(interpolate(raw).value).password }).toEqual({
            ...where,
            password: '',
          });
        }
      }
    }
    for (const [name, secret] of Object.entries(compose.secrets as Record<string, Yaml>)) {
      // Files the user creates, which git ignores.
      const given = interpolate(secret.file).value;
      expect({ name, file: given }).toEqual({
        name,
        file: expect.stringMatching(/^\.\/secrets\//),
      });
      const file = path.join(DOCKER_DIR, given);
      expect(() => execFileSync('git', ['check-ignore', '-q', file], { cwd: ROOT })).not.toThrow();
    }

    // One line per instruction (continuations joined), then every ENV and ARG it defines.
    const dockerfile = readFileSync(DOCKERFILE, 'utf8').replace(/\\\n/g, ' ');
    const definitions = [...dockerfile.matchAll(/^(?:ENV|ARG)\s+(.+)$/gm)].flatMap((m) =>
      [...m[1].matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((d) => d[1]),
    );
    expect(definitions).toEqual(expect.arrayContaining(['NODE_ENV', 'PORT', 'DATA_DIR']));
    expect(definitions.filter((d) => secretName.test(d) || /URL/.test(d))).toEqual([]);
    expect(dockerfile).not.toMatch(/^(COPY|ADD)\s[^\n]*secrets/im);
  });

  it('builds the image from a context that holds what docker/Dockerfile copies, and runs it as non-root', () => {
    const dockerfile = readFileSync(DOCKERFILE, 'utf8');
    const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    const included = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1].trim().split(/\s+/).slice(0, -1),
    );
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) {
      expect({
        source,
        included: included.some((i) => i === source || i === `${source}/**`),
      }).toEqual({
        source,
        included: true,
      });
      statSync(path.join(ROOT, source));
    }
    // Nothing under docker/ (the secrets) ever reaches the build.
    expect(included.filter((i) => i.startsWith('docker'))).toEqual([]);

    // The legacy builder (DOCKER_BUILDKIT=0) reads only the context's own .dockerignore: the
    // same list, or it would send node_modules, data/ (the SQLite database), .git and
    // docker/secrets/ to the daemon.
    const rootIgnore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rootIgnore).toEqual(ignore);

    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = stages[stages.length - 1];
    expect(runtime).toMatch(/^USER (?!root\b|0\b)\S+$/m);

    // `docker run` without compose: the image's own ENV listens where published ports reach
    // (not the container's loopback), while radgraph's defaults elsewhere stay on loopback.
    const imageEnv: NodeJS.ProcessEnv = Object.fromEntries(
      [...runtime.replace(/\\\n/g, ' ').matchAll(/^ENV\s+(.+)$/gm)].flatMap((m) =>
        [...m[1].matchAll(/([A-Za-z_]\w*)=(\S*)/g)].map((d) => [d[1], d[2]]),
      ),
    );
    const inImage = loadConfig({
      ...imageEnv,
      ADMIN_TOKEN: 'an-admin-token-0123456789',
      SECRETS_KEY: 'ab'.repeat(32),
    });
    expect(inImage.nodeEnv).toBe('production');
    expect([inImage.host, inImage.radiusAcctHost]).toEqual(['0.0.0.0', '0.0.0.0']);
    const elsewhere = loadConfig({});
    expect([elsewhere.host, elsewhere.radiusAcctHost]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/health\b/ms);
  });
});
