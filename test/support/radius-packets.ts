/**
 * Accounting-Requests built and sent from the tests themselves (besides radclient): exact
 * bytes, a chosen identifier and source port (to make a true retransmit), and timing.
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import radius from 'radius';
import { loadRadiusDictionaries } from '../../src/radius/dictionary';

export type Attribute = [string, unknown] | [string, number, Array<[string, unknown]>];

/** An Accounting-Request signed with `secret` (RFC 2866 Request Authenticator). */
export function accountingRequest(
  secret: string,
  attributes: Attribute[],
  identifier = Math.floor(Math.random() * 256),
): Buffer {
  loadRadiusDictionaries();
  // radius.encode signs Accounting-Request itself (no random authenticator for it).
  return radius.encode({
    code: 'Accounting-Request',
    identifier,
    secret,
    attributes: attributes as never,
  });
}

/** Re-signs a packet whose bytes were changed (so only what the test broke is wrong). */
export function resign(packet: Buffer, secret: string): Buffer {
  const out = Buffer.from(packet);
  out.fill(0, 4, 20);
  createHash('md5').update(out).update(secret).digest().copy(out, 4);
  return out;
}

/** The attributes of a session packet, MikroTik-like; `extra` overrides or adds. */
export function sessionAttributes(
  status: 'Start' | 'Interim-Update' | 'Stop',
  s: {
    username: string;
    sessionId: string;
    nasIp?: string;
    eventTime: number;
    sessionTime?: number;
    inputOctets?: bigint;
    outputOctets?: bigint;
    framedIp?: string;
    mac?: string;
    cause?: string;
  },
): Attribute[] {
  const attrs: Attribute[] = [
    ['Acct-Status-Type', status],
    ['User-Name', s.username],
    ['Acct-Session-Id', s.sessionId],
    ['NAS-IP-Address', s.nasIp ?? '127.0.0.1'],
    ['NAS-Port', 15728640],
    ['NAS-Port-Id', 'ether2'],
    ['NAS-Port-Type', 'Ethernet'],
    ['Service-Type', 'Framed-User'],
    ['Framed-Protocol', 'PPP'],
    ['Acct-Authentic', 'RADIUS'],
    ['Calling-Station-Id', s.mac ?? 'AA:BB:CC:00:11:22'],
    ['Framed-IP-Address', s.framedIp ?? '10.1.0.5'],
    ['Event-Timestamp', new Date(s.eventTime * 1000)],
  ];
  if (status !== 'Start') {
    const split = (v: bigint | undefined) => [
      Number((v ?? 0n) & 0xffffffffn),
      Number((v ?? 0n) >> 32n),
    ];
    const [inLo, inHi] = split(s.inputOctets);
    const [outLo, outHi] = split(s.outputOctets);
    attrs.push(
      ['Acct-Session-Time', s.sessionTime ?? 0],
      ['Acct-Input-Octets', inLo],
      ['Acct-Input-Gigawords', inHi],
      ['Acct-Output-Octets', outLo],
      ['Acct-Output-Gigawords', outHi],
    );
  }
  if (status === 'Stop') attrs.push(['Acct-Terminate-Cause', s.cause ?? 'User-Request']);
  return attrs;
}

/**
 * A UDP socket on 127.0.0.1 that sends packets and waits for the answer with the same
 * identifier. One socket = one source port, so sending the same bytes again is a retransmit.
 */
export class RadiusTestClient {
  private constructor(private readonly socket: Socket) {}

  static async open(): Promise<RadiusTestClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RadiusTestClient(socket);
  }

  /** Sends `packet` to port; resolves with the reply, or null after timeoutMs. */
  send(packet: Buffer, port: number, timeoutMs = 1000): Promise<Buffer | null> {
    const id = packet[1];
    return new Promise((resolve) => {
      const onMessage = (msg: Buffer) => {
        if (msg[1] !== id) return;
        cleanup();
        resolve(msg);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(null);
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.socket.off('message', onMessage);
      };
      this.socket.on('message', onMessage);
      this.socket.send(packet, port, '127.0.0.1');
    });
  }

  /** Sends without waiting (for floods of bad packets). */
  fire(packet: Buffer, port: number): void {
    this.socket.send(packet, port, '127.0.0.1');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Checks an Accounting-Response's authenticator against the request it answers. */
export function validResponse(response: Buffer, request: Buffer, secret: string): boolean {
  if (response[0] !== 5 || response[1] !== request[1]) return false;
  const copy = Buffer.from(response);
  request.copy(copy, 4, 4, 20);
  const expected = createHash('md5').update(copy).update(secret).digest();
  return expected.equals(response.subarray(4, 20));
}
