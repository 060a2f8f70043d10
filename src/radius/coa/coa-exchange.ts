import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { describeErrorCause } from './error-cause';
import { checkAnswer, type CoaAnswer, type CoaRequestCode } from './coa-packet';
import type { CoaResult, CoaTarget } from './coa-client';

/** One request to one NAS: the packet as encoded and signed, and how long to try. */
export interface ExchangeRequest {
  target: CoaTarget;
  code: CoaRequestCode;
  packet: Buffer;
  timeoutMs: number;
  /** Retransmissions after the first attempt. */
  retries: number;
  /** The local address to send from, used when it is of the target's family; null: any. */
  sourceAddress: string | null;
  /** Called for each datagram that is no valid answer, with why (never the secret). */
  onIgnored: (reason: string) => void;
}

/** A request on its way: its result, and a way to give it up (on shutdown). */
export interface Exchange {
  result: Promise<CoaResult>;
  abort: (why: string) => void;
}

/** "10.0.0.1:3799", "[2001:db8::1]:3799". */
export function formatTarget(target: Pick<CoaTarget, 'host' | 'port'>): string {
  return isIPv6(target.host) ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** What a timeout with no response at all says to check. */
const SILENT_NAS_HINT =
  'a NAS drops a request it does not take without a word: check that it accepts CoA on that ' +
  "port from this host's address with the same secret (RouterOS: /radius incoming " +
  'accept=yes, and a /radius entry for this address)';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function answerMessage(answer: CoaAnswer, where: string): string {
  let message = `${answer.code} from ${where}`;
  if (!answer.ack) {
    message +=
      answer.errorCause === null
        ? ' (no Error-Cause)'
        : `: ${describeErrorCause(answer.errorCause)}`;
  }
  // JSON quoting: the NAS's text cannot break a log line.
  if (answer.replyMessage !== null)
    message += `; Reply-Message ${JSON.stringify(answer.replyMessage)}`;
  return message;
}

/**
 * Sends the packet from its own UDP socket (an ephemeral port of the target's family,
 * connected to the target, so the kernel drops datagrams from anyone else and reports an ICMP
 * port unreachable as ECONNREFUSED), and sends the same bytes again (a retransmission: same
 * identifier and authenticator) each time `timeoutMs` passes unanswered, `retries` times.
 *
 * The result never rejects: an ACK, a NAK, a timeout or an error, each with a message. The
 * socket is closed before the result resolves, and its 'error' events are always handled.
 */
export function startExchange(req: ExchangeRequest): Exchange {
  const where = formatTarget(req.target);
  const maxAttempts = 1 + req.retries;
  const socket = createSocket(isIPv6(req.target.host) ? 'udp6' : 'udp4');
  let attempts = 0;
  let ignored = 0;
  /** Why the last invalid response was ignored: the API caller sees it, not only the log. */
  let lastIgnored = '';
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  let resolveResult: (result: CoaResult) => void = () => undefined;
  const result = new Promise<CoaResult>((resolve) => (resolveResult = resolve));

  const finish = (outcome: CoaResult) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.removeAllListeners('message');
    try {
      socket.close(() => resolveResult(outcome));
    } catch {
      resolveResult(outcome); // already closed: nothing left to do
    }
  };
  const fail = (message: string) => finish({ ok: false, kind: 'error', attempts, message });

  const onError = (err: NodeJS.ErrnoException) => {
    if (done) return;
    if (err.code === 'ECONNREFUSED') {
      fail(`${req.code} to ${where} refused: ICMP port unreachable (is CoA enabled on that port?)`);
    } else if (err.syscall === 'bind') {
      fail(
        `${req.code} to ${where} not sent: cannot send from COA_SOURCE_ADDRESS ${req.sourceAddress} (${err.code ?? err.message}): is it an address of this host?`,
      );
    } else {
      fail(`${req.code} to ${where} failed: ${err.message}`);
    }
  };
  // Never unhandled, even after the result: a late ICMP error must not crash the process.
  socket.on('error', onError);

  const send = () => {
    attempts++;
    socket.send(req.packet, (err) => {
      if (err) onError(err);
    });
    timer = setTimeout(() => {
      if (done) return;
      if (attempts < maxAttempts) return send();
      // Nothing came back: a NAS drops a request it does not take (the sender is none of its
      // RADIUS servers, the secret differs, CoA is off or filtered) without a word. Say where
      // to look, since the caller sees only this.
      const note =
        ignored > 0
          ? ` (${plural(ignored, 'invalid response')} ignored, the last: ${lastIgnored})`
          : ` (${SILENT_NAS_HINT})`;
      const message = `no answer from ${where} after ${plural(attempts, 'attempt')}${note}`;
      finish({ ok: false, kind: 'timeout', attempts, message });
    }, req.timeoutMs);
  };

  socket.on('message', (data: Buffer) => {
    if (done) return;
    const check = checkAnswer(data, req.packet, req.code, req.target.secret);
    if (!check.ok) {
      ignored++;
      lastIgnored = check.reason;
      req.onIgnored(check.reason);
      return;
    }
    const message = answerMessage(check.answer, where);
    if (check.answer.ack) finish({ ok: true, kind: 'ack', attempts, message });
    else {
      const errorCause = check.answer.errorCause;
      finish({ ok: false, kind: 'nak', attempts, errorCause, message });
    }
  });

  const connect = () => {
    try {
      socket.connect(req.target.port, req.target.host, (err?: Error) => {
        if (err) return onError(err);
        if (!done) send();
      });
    } catch (err) {
      fail(`${req.code} to ${where} failed: ${(err as Error).message}`); // e.g. a bad port
    }
  };
  const from = req.sourceAddress;
  if (from !== null && isIPv6(from) === isIPv6(req.target.host)) {
    // From the address the NAS knows (an address this host does not have fails here: 'error').
    try {
      socket.bind({ address: from, port: 0 }, connect);
    } catch (err) {
      fail(`${req.code} to ${where} failed: ${(err as Error).message}`);
    }
  } else {
    connect();
  }

  return { result, abort: (why) => fail(`${req.code} to ${where} abandoned: ${why}`) };
}
