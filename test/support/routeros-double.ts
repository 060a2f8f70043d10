/**
 * A RouterOS API test double: a TCP server on 127.0.0.1 that speaks the API wire protocol on
 * real bytes (https://help.mikrotik.com/docs/spaces/ROS/pages/47579160/API).
 *
 * - A word is a length prefix (1 to 5 bytes, see encodeLength) and that many bytes; a sentence
 *   is words ended by an empty word. Bytes are read and written as latin1, close to the win1252
 *   node-routeros uses, so every byte round-trips.
 * - Replies: `!re`, `!done`, `!trap` (`=message=`, always followed by `!done` as RouterOS does),
 *   `!fatal` (a bare reason word, then the connection is closed), and `!empty`. Every reply of a
 *   tagged command carries `.tag=<tag>` right after the reply word.
 * - `!empty` (RouterOS >= 7.18): a print that matches nothing answers the sentence
 *   `!empty` `.tag=<tag>`, then `!done` `.tag=<tag>`. Based on MikroTik's API manual ("Reply
 *   word": replies of commands with no data begin with `!empty`, introduced in 7.18), the 7.18
 *   changelog ("console - put !empty sentence when API query returns nothing"), a capture from a
 *   7.18 router in pear2/Net_RouterOS PR #80 (`!empty`, then `!done`), and the sentence
 *   `[b'!empty', b'.tag=5']` that RouterOS-api (Python) failed on in socialwifi/RouterOS-api #102.
 *   Only prints answer `!empty`; remove answers a bare `!done`.
 * - TLS (api-ssl): with `tls: { key, cert }` the same protocol is served over `node:tls` instead
 *   of plain TCP, as RouterOS's api-ssl service does (port 8729 there, any free port here).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

// ---------------------------------------------------------------- wire codec

/** RouterOS's variable-length word length: 1 to 5 bytes, big-endian. */
export function encodeLength(len: number): Buffer {
  if (!Number.isInteger(len) || len < 0 || len > 0xffffffff) {
    throw new RangeError(`bad word length ${len}`);
  }
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x4000) return Buffer.from([(len >> 8) | 0x80, len & 0xff]);
  if (len < 0x200000) return Buffer.from([(len >> 16) | 0xc0, (len >> 8) & 0xff, len & 0xff]);
  if (len < 0x10000000) {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(len + 0xe0000000);
    return out;
  }
  const out = Buffer.alloc(5);
  out[0] = 0xf0;
  out.writeUInt32BE(len, 1);
  return out;
}

/**
 * Decodes the length prefix at `offset`: its value and how many bytes it took, or null when the
 * buffer ends inside the prefix. A first byte >= 0xF8 is a reserved control byte: an error.
 */
export function decodeLength(buf: Buffer, offset = 0): { length: number; bytes: number } | null {
  if (offset >= buf.length) return null;
  const b = buf[offset];
  const bytes = b < 0x80 ? 1 : b < 0xc0 ? 2 : b < 0xe0 ? 3 : b < 0xf0 ? 4 : b < 0xf8 ? 5 : 0;
  if (bytes === 0) throw new Error(`reserved control byte 0x${b.toString(16)}`);
  if (offset + bytes > buf.length) return null;
  if (bytes === 5) return { length: buf.readUInt32BE(offset + 1), bytes };
  const masks = [0x7f, 0x3f, 0x1f, 0x0f];
  let length = b & masks[bytes - 1];
  for (let i = 1; i < bytes; i++) length = length * 256 + buf[offset + i];
  return { length, bytes };
}

export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const bytes = Buffer.from(word, 'latin1');
    parts.push(encodeLength(bytes.length), bytes);
  }
  parts.push(encodeLength(0));
  return Buffer.concat(parts);
}

/** Splits complete sentences off the front of `buf`; `rest` is the incomplete tail. */
export function readSentences(buf: Buffer): { sentences: string[][]; rest: Buffer } {
  const sentences: string[][] = [];
  let words: string[] = [];
  let start = 0;
  let pos = 0;
  for (;;) {
    const prefix = decodeLength(buf, pos);
    if (!prefix || pos + prefix.bytes + prefix.length > buf.length) break;
    pos += prefix.bytes;
    if (prefix.length === 0) {
      sentences.push(words);
      words = [];
      start = pos;
      continue;
    }
    words.push(buf.toString('latin1', pos, pos + prefix.length));
    pos += prefix.length;
  }
  return { sentences, rest: buf.subarray(start) };
}

// ---------------------------------------------------------------- the double

export interface Traffic {
  rxBitsPerSecond: number;
  txBitsPerSecond: number;
}

export interface DoubleSession {
  id: string;
  name: string;
  service: string;
  callerId: string;
  address: string;
  uptime: string;
  sessionId: string;
  /** Traffic of its dynamic interface `<pppoe-NAME>` (monitor-traffic). */
  traffic?: Traffic;
}

/**
 * normal: answers everything. silent: accepts connections, reads, never answers (not even the
 * login). hang-commands: answers the login, never answers anything after it.
 */
export type DoubleMode = 'normal' | 'silent' | 'hang-commands';

/**
 * How replies reach the socket. whole: every reply of a command in one write. word: each word,
 * and the empty word that ends each sentence, in its own write a few milliseconds apart (so in
 * its own TCP segment), as a router's TCP stack or api-ssl's TLS records may cut a reply.
 */
export type DoubleWrites = 'whole' | 'word';

export interface RouterOsDoubleOptions {
  user?: string;
  password?: string;
  identity?: string;
  version?: string;
  uptime?: string;
  mode?: DoubleMode;
  writes?: DoubleWrites;
  /** Serve over TLS with this PEM private key and certificate (e.g. a self-signed one). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The loopback address to listen on (default 127.0.0.1), e.g. 127.0.0.2 for another host. */
  host?: string;
}

export interface ReceivedSentence {
  /** 1-based number of the connection it arrived on. */
  connection: number;
  words: string[];
}

export interface RouterOsDouble {
  readonly port: number;
  /** The active PPP sessions (/ppp/active); tests may change it freely. */
  sessions: DoubleSession[];
  /** Static interfaces for monitor-traffic, e.g. ether1. */
  interfaces: Map<string, Traffic>;
  /** Every command sentence received, in order, logins included. */
  readonly received: ReceivedSentence[];
  /** Connections accepted so far / open now (with TLS: only those whose handshake completed). */
  readonly accepted: number;
  readonly open: number;
  identity: string;
  /** Appends a session with the next free `.id` (`*1`, `*2`, ... in hex, like RouterOS). */
  addSession(s: Partial<DoubleSession> & { name: string }): DoubleSession;
  /** The received sentences whose command word is `command`. */
  commands(command: string): ReceivedSentence[];
  setMode(mode: DoubleMode): void;
  setWrites(writes: DoubleWrites): void;
  /** Closes every open connection (FIN), or resets it (RST): a router reboot, a crash. */
  dropConnections(how?: 'close' | 'reset'): void;
  /** Sends `!fatal <reason>` on every open connection and closes it, as RouterOS does. */
  fatal(reason: string): void;
  close(): Promise<void>;
}

interface Command {
  name: string;
  tag: string | undefined;
  attrs: Map<string, string>;
  queries: string[];
}

function parseCommand(words: string[]): Command {
  const attrs = new Map<string, string>();
  const queries: string[] = [];
  let tag: string | undefined;
  for (const word of words.slice(1)) {
    if (word.startsWith('.tag=')) tag = word.slice(5);
    else if (word.startsWith('?')) queries.push(word.slice(1));
    else if (word.startsWith('=')) {
      const eq = word.indexOf('=', 1);
      if (eq < 0) attrs.set(word.slice(1), '');
      else attrs.set(word.slice(1, eq), word.slice(eq + 1));
    }
  }
  return { name: words[0], tag, attrs, queries };
}

function sessionRecord(s: DoubleSession): Record<string, string> {
  return {
    '.id': s.id,
    name: s.name,
    service: s.service,
    'caller-id': s.callerId,
    address: s.address,
    uptime: s.uptime,
    encoding: '',
    'session-id': s.sessionId,
    radius: 'true',
  };
}

/** Query words: `name=value` / `=name=value` (equal), `name` (has it), `-name` (lacks it). */
function matches(record: Record<string, string>, queries: string[]): boolean | 'unsupported' {
  for (const q of queries) {
    if (/^[#<>]/.test(q)) return 'unsupported';
    const body = q.startsWith('=') ? q.slice(1) : q;
    const eq = body.indexOf('=');
    if (eq >= 0) {
      if (record[body.slice(0, eq)] !== body.slice(eq + 1)) return false;
    } else if (body.startsWith('-')) {
      if (body.slice(1) in record) return false;
    } else if (!(body in record)) return false;
  }
  return true;
}

export async function startRouterOsDouble(
  opts: RouterOsDoubleOptions = {},
): Promise<RouterOsDouble> {
  const user = opts.user ?? 'admin';
  const password = opts.password ?? 'secret';
  let mode: DoubleMode = opts.mode ?? 'normal';
  let writes: DoubleWrites = opts.writes ?? 'whole';
  let accepted = 0;
  let nextId = 0x1a;
  const sockets = new Set<Socket>();
  /** Every TCP connection, TLS handshakes in progress included (and, with TLS, under `sockets`). */
  const tcp = new Set<Socket>();
  const received: ReceivedSentence[] = [];
  let port = 0;

  const double: RouterOsDouble = {
    get port() {
      return port;
    },
    sessions: [],
    interfaces: new Map(),
    received,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    identity: opts.identity ?? 'MikroTik',
    addSession(s) {
      const session: DoubleSession = {
        id: `*${(nextId++).toString(16).toUpperCase()}`,
        service: 'pppoe',
        callerId: '00:00:00:00:00:00',
        address: '10.0.0.1',
        uptime: '1m',
        sessionId: `0x81${nextId.toString(16).padStart(6, '0')}`,
        ...s,
      };
      double.sessions.push(session);
      return session;
    },
    commands: (command) => received.filter((r) => r.words[0] === command),
    setMode(m) {
      mode = m;
    },
    setWrites(w) {
      writes = w;
    },
    dropConnections(how = 'close') {
      // A TLSSocket cannot reset itself (ERR_INVALID_HANDLE_TYPE): reset the TCP under it.
      if (how === 'reset') for (const socket of tcp) socket.resetAndDestroy();
      else for (const socket of sockets) socket.destroy();
    },
    fatal(reason) {
      for (const socket of sockets) socket.end(encodeSentence(['!fatal', reason]));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const socket of tcp) socket.destroy();
        server.close(() => resolve());
      }),
  };

  /** The reply sentences to one command (empty: no answer at all). */
  function answer(cmd: Command, session: { loggedIn: boolean }): string[][] {
    const tagged = (reply: string, ...words: string[]) =>
      cmd.tag === undefined ? [reply, ...words] : [reply, `.tag=${cmd.tag}`, ...words];
    const done = tagged('!done');
    const trap = (message: string) => [tagged('!trap', `=message=${message}`), done];
    const rows = (records: Record<string, string>[]) => {
      if (records.length === 0) return [tagged('!empty'), done];
      const proplist = cmd.attrs.get('.proplist')?.split(',');
      const out = records.map((r) =>
        tagged(
          '!re',
          ...Object.entries(r)
            .filter(([k]) => !proplist || proplist.includes(k))
            .map(([k, v]) => `=${k}=${v}`),
        ),
      );
      return [...out, done];
    };

    if (cmd.name === '/login') {
      if (cmd.attrs.get('name') === user && cmd.attrs.get('password') === password) {
        session.loggedIn = true;
        return [done];
      }
      return trap('invalid user name or password (6)');
    }
    if (!session.loggedIn) return trap('not logged in');
    if (mode === 'hang-commands') return [];

    switch (cmd.name) {
      case '/system/identity/print':
        return rows([{ name: double.identity }]);
      case '/system/resource/print':
        return rows([
          {
            uptime: opts.uptime ?? '1w2d3h4m5s',
            version: opts.version ?? '7.18.2 (stable)',
            'board-name': 'CCR2004-1G-12S+2XS',
            'cpu-load': '3',
          },
        ]);
      case '/ppp/active/print': {
        const records = double.sessions.map(sessionRecord);
        const kept = records.filter((r) => matches(r, cmd.queries) === true);
        if (records.some((r) => matches(r, cmd.queries) === 'unsupported')) {
          return trap('query operation not supported by the test double');
        }
        return rows(kept);
      }
      case '/ppp/active/remove': {
        const index = double.sessions.findIndex((s) => s.id === cmd.attrs.get('.id'));
        if (index < 0) return trap('no such item');
        double.sessions.splice(index, 1);
        return [done];
      }
      case '/interface/monitor-traffic': {
        if (!cmd.attrs.has('once')) return trap('the test double only supports =once=');
        const name = cmd.attrs.get('interface') ?? '';
        const traffic =
          double.interfaces.get(name) ??
          double.sessions.find((s) => `<pppoe-${s.name}>` === name)?.traffic;
        if (!traffic) return trap('no such item');
        return rows([
          {
            name,
            'rx-bits-per-second': String(traffic.rxBitsPerSecond),
            'tx-bits-per-second': String(traffic.txBitsPerSecond),
            'rx-packets-per-second': '0',
            'tx-packets-per-second': '0',
          },
        ]);
      }
      default:
        return trap('no such command');
    }
  }

  /** One API session on an accepted connection (with TLS: once its handshake completed). */
  const serve = (socket: Socket) => {
    const connection = ++accepted;
    const session = { loggedIn: false };
    let pending: Buffer = Buffer.alloc(0);
    /** Word by word writes, in order, one reply after another. */
    let writing = Promise.resolve();
    const reply = (sentences: string[][]) => {
      if (writes === 'whole') {
        socket.write(Buffer.concat(sentences.map(encodeSentence)));
        return;
      }
      const pieces = sentences.flatMap((words) => [
        ...words.map((word) => encodeSentence([word]).subarray(0, -1)),
        encodeLength(0),
      ]);
      writing = writing.then(async () => {
        for (const piece of pieces) {
          if (socket.destroyed) return;
          socket.write(piece);
          await new Promise((resolve) => setTimeout(resolve, 3));
        }
      });
    };
    sockets.add(socket);
    socket.setNoDelay(true); // one write, one segment (writes: 'word')
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a client reset is no news
    socket.on('data', (chunk) => {
      let parsed: ReturnType<typeof readSentences>;
      try {
        parsed = readSentences(Buffer.concat([pending, chunk]));
      } catch {
        socket.destroy(); // a reserved control byte: RouterOS gives up on the stream too
        return;
      }
      pending = parsed.rest;
      for (const words of parsed.sentences) {
        if (words.length === 0) continue; // empty sentences are ignored
        received.push({ connection, words });
        if (mode === 'silent') continue;
        if (words[0] === '/quit') {
          socket.end(encodeSentence(['!fatal', 'session terminated on request']));
          return;
        }
        const replies = answer(parseCommand(words), session);
        if (replies.length > 0) reply(replies);
      }
    });
  };

  const server: Server = opts.tls
    ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, serve)
    : createServer(serve);
  server.on('connection', (socket: Socket) => {
    tcp.add(socket);
    socket.on('close', () => tcp.delete(socket));
  });
  // A client refusing the certificate, or speaking plain text to TLS, is no news either.
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host ?? '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return double;
}

/** A loopback port with nothing listening on it (for "connection refused"). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
