import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { RosException, RouterOSAPI } from 'node-routeros';
import { RouterOsError, type RouterOsOptions, type RouterOsTarget } from './routeros.types';
import { deliver, SentenceReader, type TagReaders } from './routeros-sentences';

/** One reply sentence's attributes (`=name=value`), as node-routeros parses them. */
export type Row = Partial<Record<string, string>>;

/** The node-routeros 1.6.9 internals the guards patch (checked at runtime: it is unmaintained). */
interface Internals {
  connector?: {
    read(tag: string, callback: (packet: string[]) => void): void;
    destroy(): void;
    receiver?: { processRawData(data: Buffer): void; tags?: TagReaders };
    transmitter?: {
      write(word: string | null): void;
      encodeString(word: string | null): Buffer | string;
      pool: Array<Buffer | string>;
    };
    socket?: Socket;
  };
}

/**
 * One logged-in RouterOS API connection over node-routeros, with every call bounded in time and
 * every failure turned into a rejected RouterOsError. Commands may run concurrently: node-routeros
 * tags each one and routes the replies by tag. Once closed (failure, idle, replaced) it is never
 * reused; the pool opens a new one.
 */
export class RouterOsConnection {
  private readonly api: RouterOSAPI;
  private readonly target: RouterOsTarget;
  private readonly pending = new Set<(err: RouterOsError) => void>();
  private opening?: Promise<void>;
  private closed = false;
  private busy = 0;
  private retiring = false;
  private idleTimer?: NodeJS.Timeout;
  /** The socket's own error code: node-routeros keeps only `errno`, none for TLS errors. */
  private socketError?: string;

  constructor(
    target: RouterOsTarget,
    private readonly opts: RouterOsOptions,
    private readonly logger: Logger,
    private readonly onClosed: (conn: RouterOsConnection) => void,
  ) {
    this.target = { ...target };
    // node-routeros's own timeout (seconds) is the socket idle timeout, and half of it the
    // interval of its keep-alive while a command is open. Ours are the real bounds, so keep its
    // timeout well above all of them: it must fire after them, never before.
    const longest = Math.max(opts.connectTimeoutMs, opts.commandTimeoutMs, opts.idleCloseMs);
    this.api = new RouterOSAPI({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      tls: target.tls ? { rejectUnauthorized: target.tlsVerify !== false } : undefined,
      timeout: Math.ceil((2 * longest) / 1000) + 1,
      keepalive: false,
    });
    // An 'error' event with no listener would kill the process.
    this.api.on('error', (err: unknown) => this.destroy(this.classify(err, 'command')));
    this.api.on('close', () => this.destroy(this.failure('connection', 'connection closed')));
  }

  /** Same router, same credentials: the pooled connection can serve this target. */
  serves(t: RouterOsTarget): boolean {
    const a = this.target;
    return (
      a.host === t.host &&
      a.port === t.port &&
      a.user === t.user &&
      a.password === t.password &&
      a.tls === t.tls &&
      (a.tlsVerify !== false) === (t.tlsVerify !== false)
    );
  }

  /** Connects and logs in once; every caller shares the outcome. */
  open(): Promise<void> {
    this.opening ??= this.connect();
    return this.opening;
  }

  /** Runs one command (its words) and resolves with its `!re` rows ([] for `!empty`). */
  async run(words: readonly string[]): Promise<Row[]> {
    if (this.closed) throw this.failure('connection', 'connection closed');
    try {
      // Channel.write appends `.tag=` to the array it is given: hand it a copy.
      return await this.bounded(this.api.write([...words]), this.opts.commandTimeoutMs);
    } catch (err) {
      const error = this.classify(err, 'command');
      // A trap is the router's answer to one command; anything else leaves the connection in
      // an unknown state (a late reply would reach a forgotten tag), so drop it.
      if (error.kind !== 'trap') this.destroy(error);
      throw error;
    }
  }

  acquire(): void {
    this.busy++;
    clearTimeout(this.idleTimer);
  }

  release(): void {
    this.busy--;
    if (this.busy > 0 || this.closed) return;
    if (this.retiring) return this.close('replaced by a changed target');
    this.idleTimer = setTimeout(() => this.close('idle'), this.opts.idleCloseMs).unref();
  }

  /** Closes once no call uses it any more (the pool has replaced it). */
  retire(): void {
    this.retiring = true;
    if (this.busy === 0) this.close('replaced by a changed target');
  }

  close(reason: string): void {
    this.destroy(this.failure('connection', `connection closed (${reason})`));
  }

  private async connect(): Promise<void> {
    // connect() builds node-routeros's Connector and Receiver synchronously, so the guards are
    // in place before the first byte arrives. The error path destroys the socket, after which
    // this promise never settles; observe it anyway.
    const connecting = this.api.connect();
    connecting.catch(() => undefined);
    try {
      if (!this.installGuards()) {
        throw this.failure('connection', 'node-routeros internals are not those of 1.6.9');
      }
      await this.bounded(connecting, this.opts.connectTimeoutMs);
      this.logger.debug(`${this.where}: connected as ${this.target.user}`);
    } catch (err) {
      const error = this.classify(err, 'connect');
      this.logger.warn(error.message);
      this.destroy(error);
      throw error;
    }
  }

  /**
   * Why, and where. node-routeros parses the socket's bytes synchronously inside the socket's
   * 'data' event: Connector.onData -> Receiver.processRawData -> sendTagData -> the tag's
   * callback, Channel.processPacket. Its Receiver loses track of sentences at chunk boundaries
   * (routeros-sentences.ts), and a Channel knows only `!re`, `!done` and `!trap`: any other
   * reply word makes it throw RosException UNKNOWNREPLY, with nothing to catch it on the way
   * back to the socket event, so RouterOS 7.18's `!empty` is an uncaught exception.
   *
   * 1. Receiver.processRawData is replaced by SentenceReader, which hands each whole sentence
   *    to the Channel registered for its `.tag=` (the packet node-routeros builds: the words
   *    without the tag). `!fatal` (untagged) closes this connection with its reason. A reply
   *    to a tag no Channel has any more is dropped; anything thrown (a reserved control byte,
   *    another unknown reply word) closes this connection and rejects its calls with kind
   *    'connection' instead of killing the process.
   * 2. Connector.read, where a Channel registers its tag's callback, is wrapped so the `!empty`
   *    packet never reaches the Channel. RouterOS follows it with `!done` on the same tag, which
   *    resolves the command with no rows, as a print that matched nothing did before 7.18.
   *
   * 3. Transmitter.write is replaced by the same writes without its debug line, which holds
   *    the password.
   *
   * All patch this connection's own objects, never node-routeros's prototypes. The socket also
   * gets an 'error' listener that keeps the error's code (node-routeros keeps only `errno`).
   */
  private installGuards(): boolean {
    const connector = (this.api as unknown as Internals).connector;
    const receiver = connector?.receiver;
    const transmitter = connector?.transmitter;
    const socket = connector?.socket;
    if (
      typeof connector?.read !== 'function' ||
      typeof connector.destroy !== 'function' ||
      typeof receiver?.processRawData !== 'function' ||
      !(receiver.tags instanceof Map) ||
      typeof transmitter?.encodeString !== 'function' ||
      !Array.isArray(transmitter.pool) ||
      typeof socket?.on !== 'function'
    ) {
      return false;
    }
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketError ??= err.code ?? err.message;
    });
    // node-routeros writes each word separately: with Nagle on, every command after the first
    // word waits for the router's delayed ACK (~40 ms a command).
    socket.setNoDelay(true);
    // Transmitter.write prints each word to node-routeros's debug log (DEBUG=routeros-api:*),
    // the login's `=password=` too: the same writes, without that line.
    transmitter.write = (word) => {
      const bytes = transmitter.encodeString(word);
      if (!socket.writable || transmitter.pool.length > 0) transmitter.pool.push(bytes);
      else socket.write(bytes);
    };
    const read = connector.read.bind(connector);
    connector.read = (tag, callback) =>
      read(tag, (packet) => {
        if (packet[0] !== '!empty') callback(packet);
      });
    const tags = receiver.tags;
    const reader = new SentenceReader((words) => {
      const fatal = deliver(tags, words);
      if (fatal !== null) this.destroy(this.failure('connection', `!fatal ${fatal}`.trim()));
    });
    receiver.processRawData = (data) => {
      if (this.closed) return;
      try {
        reader.push(data);
      } catch (err) {
        this.destroy(this.failure('connection', `unreadable reply: ${this.describe(err)}`));
      }
    };
    return true;
  }

  /** Settles like `work`, or rejects with 'timeout' after `ms`, or when the connection dies. */
  private bounded<T>(work: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(fail);
      };
      const fail = (err: unknown) => {
        done();
        reject(err instanceof Error ? err : this.failure('connection', String(err)));
      };
      const timer = setTimeout(
        () => fail(this.failure('timeout', `no answer within ${ms} ms`)),
        ms,
      );
      this.pending.add(fail);
      work.then((value) => {
        done();
        resolve(value);
      }, fail);
    });
  }

  private destroy(reason: RouterOsError): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const fail of [...this.pending]) fail(reason);
    if (this.api.connected) {
      // close() clears node-routeros's keep-alive timer; destroy() below ends the socket now
      // and drops the Connector's listeners, so close()'s promise never settles.
      this.api.close().catch(() => undefined);
    }
    (this.api as unknown as Internals).connector?.destroy();
    this.logger.debug(reason.message);
    this.onClosed(this);
  }

  private classify(err: unknown, phase: 'connect' | 'command'): RouterOsError {
    if (err instanceof RouterOsError) return err;
    if (err instanceof RosException) {
      const errno: unknown = err.errno;
      if (errno === 'CANTLOGIN') return this.loginRefused();
      const code =
        this.socketError ??
        (typeof errno === 'number' && errno < 0 ? getSystemErrorName(errno) : String(errno));
      if (code === 'ECONNREFUSED') return this.failure('refused', 'connection refused');
      if (code === 'SOCKTMOUT' || code === 'ETIMEDOUT') {
        return this.failure('timeout', 'socket timed out');
      }
      return this.failure('connection', `connection failed (${code})`);
    }
    // node-routeros rejects a `!trap` with a plain Error carrying the trap's message; during the
    // login, that is a refusal it did not recognise as one.
    if (err instanceof Error && Object.getPrototypeOf(err) === Error.prototype) {
      if (phase === 'connect') return this.loginRefused(err.message);
      return new RouterOsError('trap', this.redact(err.message));
    }
    return this.failure('connection', this.describe(err));
  }

  private loginRefused(detail?: string): RouterOsError {
    const suffix = detail ? `: ${detail}` : '';
    return this.failure('auth', `login refused for user "${this.target.user}"${suffix}`);
  }

  private failure(kind: RouterOsError['kind'], text: string): RouterOsError {
    return new RouterOsError(kind, this.redact(`${this.where}: ${text}`));
  }

  private describe(err: unknown): string {
    return err instanceof Error ? err.message || err.name : String(err);
  }

  /** The password never leaves in a message, whatever node-routeros or the router put there. */
  private redact(text: string): string {
    const { password } = this.target;
    return password ? text.split(password).join('***') : text;
  }

  private get where(): string {
    return `RouterOS ${this.target.host}:${this.target.port}`;
  }
}
