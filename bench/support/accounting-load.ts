/**
 * A NAS-like RADIUS accounting client for benches: it plays many sessions at once over UDP,
 * each one packet at a time (the next packet of a session goes only after the previous one was
 * acknowledged, as a NAS does), with a bounded window of requests in flight, retransmitting
 * the same bytes after a timeout, and timing every packet from its first send to a valid
 * Accounting-Response (the Response Authenticator is checked against the request).
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { resign, validResponse } from '../../test/support/radius-packets';

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

interface InFlight {
  session: number;
  index: number;
  request: Buffer;
  firstSent: number;
  timer: NodeJS.Timeout;
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
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
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

      const send = (port: Port, f: InFlight) => {
        port.socket.send(f.request, opts.port, opts.host);
        f.timer = setTimeout(() => {
          retransmits++;
          send(port, f);
        }, opts.timeoutMs);
      };

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
          const request = Buffer.from(sessions[next.session].packets[next.index].bytes);
          request[1] = id;
          const f: InFlight = {
            ...next,
            request: resign(request, opts.secret),
            firstSent: performance.now(),
            timer: undefined as unknown as NodeJS.Timeout,
          };
          port.inFlight.set(id, f);
          inFlight++;
          send(port, f);
        }
      };

      const onMessage = (port: Port, msg: Buffer) => {
        const f = msg.length >= 20 ? port.inFlight.get(msg[1]) : undefined;
        if (!f) {
          strayResponses++;
          return;
        }
        if (!validResponse(msg, f.request, opts.secret)) {
          badResponses++;
          return;
        }
        clearTimeout(f.timer);
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
    for (const port of ports) {
      for (const f of port.inFlight.values()) clearTimeout(f.timer);
      await new Promise<void>((resolve) => port.socket.close(() => resolve()));
    }
  }
}
