/**
 * A NAS's RFC 5176 Dynamic Authorization server, as a test double built with the `radius`
 * package: it records every Disconnect-Request and CoA-Request (attributes decoded by name,
 * MikroTik's included) with whether its Request Authenticator is right, and answers the way
 * the test asks.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';
import radius from 'radius';
import { loadRadiusDictionaries } from '../../src/radius/dictionary';
import { resign } from './radius-packets';

/**
 * - ack: Disconnect-ACK / CoA-ACK.
 * - nak: Disconnect-NAK / CoA-NAK with an Error-Cause (503 unless told).
 * - silent: no answer.
 * - bad-authenticator: an ACK signed with a wrong secret.
 */
export type CoaResponderMode = 'ack' | 'nak' | 'silent' | 'bad-authenticator';

/** Datagrams sent before the real answer, that a client must ignore. */
export type CoaJunk = 'garbage' | 'truncated' | 'forged-ack' | 'wrong-identifier' | 'wrong-code';

export interface CoaBehaviour {
  mode: CoaResponderMode;
  /** The NAK's Error-Cause (default 503); null for none. */
  errorCause?: number | null;
  /** A Reply-Message for the answer, or a function of the request (e.g. to echo User-Name). */
  replyMessage?: string | ((request: CoaReceived) => string);
  /** Leave the first this many requests unanswered (they are recorded), as if they were lost. */
  dropFirst?: number;
  /** Sent before each real answer (and before nothing in silent mode). */
  junkFirst?: CoaJunk[];
}

export interface CoaReceived {
  /** 'Disconnect-Request', 'CoA-Request', ... */
  code: string;
  identifier: number;
  /** The attributes as the `radius` package decodes them ('Vendor-Specific': { ... }). */
  attributes: Record<string, unknown>;
  /** The RFC 5176 Request Authenticator matches the secret. */
  authenticatorValid: boolean;
  from: { address: string; port: number };
  /** The datagram as it arrived. */
  raw: Buffer;
}

export interface CoaResponder {
  host: string;
  port: number;
  /** Every request decoded, in arrival order. */
  received: CoaReceived[];
  /** Datagrams that did not decode. */
  malformed: Buffer[];
  setMode(mode: CoaResponderMode, options?: Omit<CoaBehaviour, 'mode'>): void;
  close(): Promise<void>;
}

const ANSWERS: Record<string, { ack: string; nak: string }> = {
  'Disconnect-Request': { ack: 'Disconnect-ACK', nak: 'Disconnect-NAK' },
  'CoA-Request': { ack: 'CoA-ACK', nak: 'CoA-NAK' },
};

export async function startCoaResponder(opts: {
  secret: string;
  mode?: CoaResponderMode;
  host?: string;
}): Promise<CoaResponder> {
  loadRadiusDictionaries();
  const { secret } = opts;
  const host = opts.host ?? '127.0.0.1';
  let behaviour: CoaBehaviour = { mode: opts.mode ?? 'ack' };
  const received: CoaReceived[] = [];
  const malformed: Buffer[] = [];
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('error', () => undefined); // a test double outlives a client's closed port

  const send = (packet: Buffer, to: RemoteInfo) => socket.send(packet, to.port, to.address);

  const onMessage = (msg: Buffer, rinfo: RemoteInfo) => {
    let decoded: radius.RadiusPacket;
    try {
      decoded = radius.decode_without_secret({ packet: msg });
    } catch {
      malformed.push(msg);
      return;
    }
    const request: CoaReceived = {
      code: decoded.code,
      identifier: decoded.identifier,
      attributes: decoded.attributes as Record<string, unknown>,
      // Re-signing a packet that is signed right changes nothing.
      authenticatorValid: resign(msg, secret).equals(msg),
      from: { address: rinfo.address, port: rinfo.port },
      raw: Buffer.from(msg),
    };
    received.push(request);
    const answers = ANSWERS[decoded.code];
    const b = behaviour;
    if (!answers || b.mode === 'silent' || received.length <= (b.dropFirst ?? 0)) return;

    const attributes: Array<[string, unknown]> = [];
    if (b.mode === 'nak' && b.errorCause !== null) {
      attributes.push(['Error-Cause', b.errorCause ?? 503]);
    }
    const reply = typeof b.replyMessage === 'function' ? b.replyMessage(request) : b.replyMessage;
    if (reply !== undefined) attributes.push(['Reply-Message', reply]);
    const answer = (code: string, key: string, packet = decoded) =>
      radius.encode_response({ packet, code, secret: key, attributes: [...attributes] });

    for (const junk of b.junkFirst ?? []) {
      switch (junk) {
        case 'garbage':
          send(Buffer.from('not a RADIUS packet at all'), rinfo);
          break;
        case 'truncated':
          send(answer(answers.ack, secret).subarray(0, 19), rinfo);
          break;
        case 'forged-ack':
          send(answer(answers.ack, `${secret}-wrong`), rinfo);
          break;
        case 'wrong-identifier':
          send(
            answer(answers.ack, secret, { ...decoded, identifier: (decoded.identifier + 1) % 256 }),
            rinfo,
          );
          break;
        case 'wrong-code':
          send(answer('Access-Accept', secret), rinfo);
          break;
      }
    }
    switch (b.mode) {
      case 'ack':
        send(answer(answers.ack, secret), rinfo);
        break;
      case 'nak':
        send(answer(answers.nak, secret), rinfo);
        break;
      case 'bad-authenticator':
        send(answer(answers.ack, `${secret}-wrong`), rinfo);
        break;
    }
  };
  socket.on('message', onMessage);

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });

  return {
    host,
    port: socket.address().port,
    received,
    malformed,
    setMode(mode, options = {}) {
      behaviour = { ...options, mode };
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
