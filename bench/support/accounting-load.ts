/**
 * A NAS-like RADIUS accounting client for benches: it plays many sessions at once over UDP,
 * each one packet at a time (the next packet of a session goes only after the previous one was
 * acknowledged, as a NAS does), with a bounded window of requests in flight, retransmitting
 * the same bytes after a timeout, and timing every packet from its first send to a valid
 * Accounting-Response (the Response Authenticator is checked against the request).
 */
import { hash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { literalLookup } from '../../src/radius/literal-lookup';

/** One session's packets in order: Accounting-Requests encoded with identifier 0. */
export interface LoadSession {
  packets: Array<{ kind: number; bytes: Buffer }>;
}

export interface LoadOptions {
  host: string;
  port: number;
  secret: string;
  /** Requests in flight at most, over all sessions. */
  window: number;
  /** Resend an unanswered request after this long (the same bytes: a true retransmit). */
  timeoutMs: number;
  /** Give up (reject) when the whole stream is not acknowledged by then. */
  maxSeconds: number;
}

export interface LoadResult {
  packets: number;
  /** From the first send to the last acknowledgement. */
  seconds: number;
  /** Milliseconds from a packet's first send to its valid answer, in answer order. */
  latencies: Float64Array;
  /** The `kind` of each answered packet, in the same order as latencies. */
  kinds: Uint8Array;
  retransmits: number;
  /** Answers whose authenticator did not match the request they claim to answer. */
  badResponses: number;
  /** Answers to nothing in flight (late answers to a retransmitted request, and the like). */
  strayResponses: number;
}

/** RADIUS gives a source port 256 identifiers; a wider window needs more sockets. */
const IDS_PER_SOCKET = 256;
/** How often the retransmit timeouts are checked (one timer for all, not one per packet). */
const TICK_MS = 10;

interface InFlight {
  port: Port;
  session: number;
  index: number;
  request: Buffer;
  firstSent: number;
  /** When it is sent again, unless answered first. */
  resendAt: number;
  answered: boolean;
}

interface Port {
  socket: Socket;
  /** Free identifiers, oldest first: like a NAS, an identifier comes back after all others. */
  free: number[];
  inFlight: Map<number, InFlight>;
}

/** A client socket on 127.0.0.1, with a receive buffer deep enough for a window of answers. */
function openSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({
      type: 'udp4',
      recvBufferSize: 4 * 1024 * 1024,
      lookup: literalLookup,
    });
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * The client is light so that it takes as little as it can of the CPUs it shares with the
 * server it measures (a real NAS is another machine): one MD5 per request and per answer
 * (crypto.hash over the bytes and the secret in one buffer), and one timer for every
 * retransmit timeout instead of a timer per packet.
 */
class Signer {
  private readonly key: Buffer;
  private readonly scratch: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(secret, 'utf8');
    this.scratch = Buffer.allocUnsafe(4096 + this.key.length);
  }

  /** A copy of `packet` with identifier `id`, signed (RFC 2866 Request Authenticator). */
  request(packet: Buffer, id: number): Buffer {
    const out = Buffer.allocUnsafe(packet.length);
    packet.copy(out);
    out[1] = id;
    out.fill(0, 4, 20);
    out.copy(this.scratch);
    this.key.copy(this.scratch, out.length);
    hash('md5', this.scratch.subarray(0, out.length + this.key.length), 'buffer').copy(out, 4);
    return out;
  }

  /** Whether `response` is a valid Accounting-Response to `request`. */
  answers(response: Buffer, request: Buffer): boolean {
    if (response.length < 20 || response.length > 4096) return false;
    if (response[0] !== 5 || response[1] !== request[1]) return false;
    response.copy(this.scratch);
    request.copy(this.scratch, 4, 4, 20);
    this.key.copy(this.scratch, response.length);
    const expected = hash(
      'md5',
      this.scratch.subarray(0, response.length + this.key.length),
      'buffer',
    );
    return expected.equals(response.subarray(4, 20));
  }
}

/** Plays `sessions` against host:port and resolves when every packet was acknowledged. */
export async function playSessions(
  sessions: readonly LoadSession[],
  opts: LoadOptions,
): Promise<LoadResult> {
  const total = sessions.reduce((n, s) => n + s.packets.length, 0);
  const ports: Port[] = [];
  for (let i = 0; i < Math.ceil(opts.window / IDS_PER_SOCKET); i++) {
    ports.push({
      socket: await openSocket(),
      free: Array.from({ length: IDS_PER_SOCKET }, (_, id) => id),
      inFlight: new Map(),
    });
  }
  const latencies = new Float64Array(total);
  const kinds = new Uint8Array(total);
  let answered = 0;
  let inFlight = 0;
  let retransmits = 0;
  let badResponses = 0;
  let strayResponses = 0;
  let nextSession = 0;
  /** Sessions whose previous packet was answered: they go before new sessions. */
  const followUps: Array<{ session: number; index: number }> = [];
  let turn = 0;

  const signer = new Signer(opts.secret);
  /** Requests in the order they were (re)sent, from `head`: their resend times only grow. */
  let waiting: InFlight[] = [];
  let head = 0;
  let ticker: NodeJS.Timeout | undefined;

  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      const started = performance.now();
      const deadline = setTimeout(
        () =>
          reject(
            new Error(
              `${answered} of ${total} packets acknowledged after ${opts.maxSeconds} s ` +
                `(${retransmits} retransmits, ${inFlight} in flight)`,
            ),
          ),
        opts.maxSeconds * 1000,
      );

      const send = (f: InFlight) => {
        f.port.socket.send(f.request, opts.port, opts.host);
        f.resendAt = performance.now() + opts.timeoutMs;
        waiting.push(f);
      };

      // Every TICK_MS: the unanswered requests whose timeout passed are sent again.
      ticker = setInterval(() => {
        const now = performance.now();
        const due: InFlight[] = [];
        for (; head < waiting.length; head++) {
          const f = waiting[head];
          if (f.answered) continue;
          if (f.resendAt > now) break;
          due.push(f);
        }
        if (head > 4096 && head * 2 > waiting.length) {
          waiting = waiting.slice(head);
          head = 0;
        }
        for (const f of due) {
          retransmits++;
          send(f);
        }
      }, TICK_MS);

      const pump = () => {
        while (inFlight < opts.window) {
          const next =
            followUps.shift() ??
            (nextSession < sessions.length ? { session: nextSession++, index: 0 } : undefined);
          if (!next) return;
          let port = ports[turn++ % ports.length];
          for (let i = 0; port.free.length === 0 && i < ports.length; i++) {
            port = ports[turn++ % ports.length];
          }
          const id = port.free.shift()!;
          const f: InFlight = {
            port,
            session: next.session,
            index: next.index,
            request: signer.request(sessions[next.session].packets[next.index].bytes, id),
            firstSent: performance.now(),
            resendAt: 0,
            answered: false,
          };
          port.inFlight.set(id, f);
          inFlight++;
          send(f);
        }
      };

      const onMessage = (port: Port, msg: Buffer) => {
        const f = msg.length >= 20 ? port.inFlight.get(msg[1]) : undefined;
        if (!f) {
          strayResponses++;
          return;
        }
        if (!signer.answers(msg, f.request)) {
          badResponses++;
          return;
        }
        f.answered = true;
        port.inFlight.delete(msg[1]);
        port.free.push(msg[1]);
        inFlight--;
        latencies[answered] = performance.now() - f.firstSent;
        kinds[answered] = sessions[f.session].packets[f.index].kind;
        answered++;
        if (f.index + 1 < sessions[f.session].packets.length) {
          followUps.push({ session: f.session, index: f.index + 1 });
        }
        if (answered === total) {
          clearTimeout(deadline);
          resolve({
            packets: total,
            seconds: (performance.now() - started) / 1000,
            latencies,
            kinds,
            retransmits,
            badResponses,
            strayResponses,
          });
          return;
        }
        pump();
      };

      for (const port of ports) port.socket.on('message', (msg) => onMessage(port, msg));
      pump();
    });
  } finally {
    clearInterval(ticker);
    for (const port of ports) {
      await new Promise<void>((resolve) => port.socket.close(() => resolve()));
    }
  }
}
