/**
 * Real FreeRADIUS for end-to-end tests: started through scripts/freeradius.sh (Debian's stock
 * config plus radius-config/) on free loopback ports, and driven with the real `radclient`.
 * A missing FreeRADIUS is an error that says how to install it, never a skip.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import type { TestDatabase } from './test-database';

export const FREERADIUS_INSTALL_COMMAND =
  'apt-get update && apt-get install -y freeradius freeradius-mysql freeradius-utils';

const SCRIPT = path.resolve(__dirname, '../../scripts/freeradius.sh');
const READY_LINE = 'Ready to process requests';
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
/** Keep at most this much of FreeRADIUS's output (the tail), for error messages. */
const MAX_OUTPUT_CHARS = 1_000_000;

/** The FreeRADIUS login for a MySQL test database (the tests' own server and user). */
export function freeradiusDatabase(db: TestDatabase): FreeradiusDatabase {
  if (!db.mysql) {
    throw new Error('FreeRADIUS needs a MySQL test database: createTestDatabase("mysql")');
  }
  return {
    host: db.mysql.host,
    port: db.mysql.port,
    database: db.database,
    user: db.mysql.user,
    password: db.mysql.password,
  };
}

/** Fails with radclient's output and FreeRADIUS's, which say why, unless the reply is `expected`. */
export function expectRadiusCode(
  result: RadclientResult,
  expected: string,
  radius: Pick<RunningFreeradius, 'output'>,
): void {
  if (result.code !== expected) {
    throw new Error(
      `expected ${expected}, got ${result.code}\n--- radclient\n${result.stdout}${result.stderr}` +
        `\n--- FreeRADIUS\n${radius.output()}`,
    );
  }
}

export interface FreeradiusDatabase {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export interface StartFreeradiusOptions {
  db: FreeradiusDatabase;
  /** UDP port for Access-Requests; a free one when not given. */
  authPort?: number;
  /** UDP port for Accounting-Requests; a free one when not given. */
  acctPort?: number;
  /** More environment for scripts/freeradius.sh (e.g. RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR). */
  env?: Record<string, string>;
}

export interface RunningFreeradius {
  authPort: number;
  acctPort: number;
  /** Stops FreeRADIUS (SIGTERM, then SIGKILL) and waits until its temp raddb is gone. */
  stop(): Promise<void>;
  /** Everything FreeRADIUS and the script printed so far (stdout and stderr). */
  output(): string;
}

export interface RadclientOptions {
  port: number;
  secret: string;
  type: 'auth' | 'acct';
  /**
   * Attribute name to value, as radclient reads them (`Name = "value"`). radclient computes
   * CHAP-Password and MS-CHAP-Challenge/-Response itself from `CHAP-Password` or
   * `MS-CHAP-Password` given in cleartext.
   */
  attributes: Record<string, string>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Seconds to wait for each reply (radclient -t). Default 3. */
  timeoutSeconds?: number;
  /** Sends per request (radclient -r). Default 2. */
  retries?: number;
}

export interface RadclientResult {
  /** "Access-Accept", "Access-Reject", "Accounting-Response", …; "no-reply" or "error" otherwise. */
  code: string;
  /** The attributes of the reply, values unquoted; a repeated attribute's values joined by ", ". */
  reply: Record<string, string>;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

function findExecutable(name: string, dirs: string[]): string | undefined {
  const searchPath = [...(process.env.PATH ?? '').split(path.delimiter), ...dirs];
  for (const dir of searchPath) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws an Error that says how to install FreeRADIUS when it is missing. */
export function assertFreeradiusInstalled(): void {
  if (!findExecutable('freeradius', ['/usr/sbin', '/sbin'])) {
    throw new Error(
      `FreeRADIUS is not installed (no 'freeradius' binary in PATH or /usr/sbin). ` +
        `The end-to-end tests run the real server; install Debian's packages: ${FREERADIUS_INSTALL_COMMAND}`,
    );
  }
}

function bindUdp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/** Distinct UDP ports that are free on 127.0.0.1 right now (the kernel's ephemeral range). */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < count; i++) sockets.push(await bindUdp());
    return sockets.map((s) => s.address().port);
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If a test file forgets stop(), don't leave FreeRADIUS behind when the worker exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Starts FreeRADIUS with the radgraph overlay against `db`, on 127.0.0.1, and resolves once it
 * is ready to process requests. Rejects with FreeRADIUS's output if it exits or is not ready
 * within 20 seconds.
 */
export async function startFreeradius(opts: StartFreeradiusOptions): Promise<RunningFreeradius> {
  assertFreeradiusInstalled();
  // Ports picked here can be taken by someone else before FreeRADIUS binds them; try again
  // with fresh ones then. Ports the caller chose are used as they are.
  const pickPorts = opts.authPort === undefined || opts.acctPort === undefined;
  const attempts = pickPorts ? 3 : 1;
  let lastError = new Error('FreeRADIUS was not started');
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const free = pickPorts ? await freeUdpPorts(3) : [];
    const authPort = opts.authPort ?? free.find((p) => p !== opts.acctPort)!;
    const acctPort = opts.acctPort ?? free.find((p) => p !== authPort)!;
    try {
      return await startOnce(opts.db, authPort, acctPort, opts.env ?? {});
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
      if (!/Address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError;
}

function startOnce(
  db: FreeradiusDatabase,
  authPort: number,
  acctPort: number,
  env: Record<string, string>,
): Promise<RunningFreeradius> {
  // Through bash, so a checkout without the executable bit works too. The script execs
  // FreeRADIUS: child.pid is FreeRADIUS's pid.
  const child = spawn('bash', [SCRIPT], {
    env: {
      ...process.env,
      RADGRAPH_DB_HOST: db.host,
      RADGRAPH_DB_PORT: String(db.port),
      RADGRAPH_DB_NAME: db.database,
      RADGRAPH_DB_USER: db.user,
      RADGRAPH_DB_PASSWORD: db.password,
      RADIUS_LISTEN_ADDR: '127.0.0.1',
      RADIUS_AUTH_PORT: String(authPort),
      RADIUS_ACCT_PORT: String(acctPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  installExitHook();

  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(-MAX_OUTPUT_CHARS);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);

  // 'close' comes after the process exited and every holder of its stdout/stderr closed them;
  // the script's cleanup watcher holds them until it has removed the temp raddb.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void closed.then(() => running.delete(child));

  const stop = async (): Promise<void> => {
    if (!hasExited(child)) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
    }
    await closed;
  };

  return new Promise<RunningFreeradius>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().then(() =>
        reject(
          new Error(
            `FreeRADIUS (${SCRIPT}, auth port ${authPort}, acct port ${acctPort}) ${reason}. Its output:\n${output}`,
          ),
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`did not say "${READY_LINE}" within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS,
    );
    const onData = () => {
      if (settled || !output.includes(READY_LINE)) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ authPort, acctPort, stop, output: () => output });
    };
    child.stdout.on('data', onData);
    child.once('error', (err) => fail(`could not be started: ${err.message}`));
    child.once('exit', (code, signal) =>
      fail(`exited before it was ready (${signal ? `signal ${signal}` : `exit code ${code}`})`),
    );
  });
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}

function parseRadclientOutput(stdout: string): { code: string; reply: Record<string, string> } {
  const lines = stdout.split('\n');
  const received = lines.findIndex((line) => /^Received \S+ Id \d+/.test(line));
  if (received < 0) {
    return { code: /No reply from server/i.test(stdout) ? 'no-reply' : 'error', reply: {} };
  }
  const code = lines[received].split(' ')[1];
  const reply: Record<string, string> = {};
  for (const line of lines.slice(received + 1)) {
    const m = /^\s+([A-Za-z0-9_.:-]+) = (.*)$/.exec(line);
    if (!m) break;
    const value = unquote(m[2]);
    reply[m[1]] = m[1] in reply ? `${reply[m[1]]}, ${value}` : value;
  }
  return { code, reply };
}

/**
 * Sends one request with the real `radclient` and reports what came back. A reject or a lost
 * reply is a result (code "Access-Reject", "no-reply"), not an exception; a missing radclient is.
 */
export function radclient(opts: RadclientOptions): Promise<RadclientResult> {
  const binary = findExecutable('radclient', ['/usr/bin']);
  if (!binary) {
    return Promise.reject(
      new Error(
        `radclient is not installed (Debian package freeradius-utils). Install: ${FREERADIUS_INSTALL_COMMAND}`,
      ),
    );
  }
  const host = opts.host ?? '127.0.0.1';
  const args = [
    '-x',
    '-t',
    String(opts.timeoutSeconds ?? 3),
    '-r',
    String(opts.retries ?? 2),
    `${host}:${opts.port}`,
    opts.type,
    opts.secret,
  ];
  const input =
    Object.entries(opts.attributes)
      .map(([name, value]) => `${name} = ${quote(value)}`)
      .join('\n') + '\n';

  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (exitCode) => {
      const { code, reply } = parseRadclientOutput(
        stdout + (stdout.endsWith('\n') ? '' : '\n') + stderr,
      );
      resolve({ code, reply, stdout, stderr, exitCode });
    });
    child.stdin.end(input);
  });
}

/** How a NAS sends the password; radclient computes CHAP and MS-CHAP from the cleartext. */
export const PASSWORD_METHODS = {
  PAP: 'User-Password',
  CHAP: 'CHAP-Password',
  'MS-CHAP': 'MS-CHAP-Password',
} as const;
export type PasswordMethod = keyof typeof PASSWORD_METHODS;

/**
 * Logs `username` in with `password` by PAP, CHAP and MS-CHAP, all at once (FreeRADIUS holds
 * each Access-Reject for its reject_delay, a second): each method with its reply.
 */
export function loginEachWay(
  opts: Omit<RadclientOptions, 'type' | 'attributes'> & {
    username: string;
    password: string;
    /** More attributes for every request (NAS-IP-Address, …). */
    attributes?: Record<string, string>;
  },
): Promise<Array<[PasswordMethod, RadclientResult]>> {
  const { username, password, attributes, ...rest } = opts;
  return Promise.all(
    (Object.keys(PASSWORD_METHODS) as PasswordMethod[]).map(async (method) => {
      const result = await radclient({
        ...rest,
        type: 'auth',
        attributes: { 'User-Name': username, [PASSWORD_METHODS[method]]: password, ...attributes },
      });
      return [method, result] as [PasswordMethod, RadclientResult];
    }),
  );
}

/**
 * Expects what a wrong password gets for any account, whatever state it is in: Access-Reject
 * with nothing in it but, for MS-CHAP, the MS-CHAP-Error "E=691" (authentication failure). A
 * reject that says more (the data cap's Reply-Message) or less (no MS-CHAP-Error, as for an
 * account refused before its password is checked) tells whoever tries a password that the
 * account exists and what state it is in.
 */
export function expectWrongPasswordReject(
  method: PasswordMethod,
  result: RadclientResult,
  radius: Pick<RunningFreeradius, 'output'>,
): void {
  expectRadiusCode(result, 'Access-Reject', radius);
  const { 'MS-CHAP-Error': msChapError, ...rest } = result.reply;
  const ok =
    Object.keys(rest).length === 0 &&
    (method === 'MS-CHAP' ? /E=691 /.test(msChapError ?? '') : msChapError === undefined);
  if (!ok) {
    throw new Error(
      `a wrong ${method} password got ${JSON.stringify(result.reply)}, not what any wrong ` +
        `password gets (${method === 'MS-CHAP' ? 'only an MS-CHAP-Error "E=691"' : 'nothing'})` +
        `\n--- radclient\n${result.stdout}${result.stderr}`,
    );
  }
}
