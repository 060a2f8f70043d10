import { randomInt } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Metrics } from '../../metrics/metrics.service';
import {
  CoaInputError,
  encodeCoaRequest,
  rateLimitAttribute,
  sessionAttributes,
  type CoaAttribute,
  type CoaRequestCode,
} from './coa-packet';
import { formatTarget, startExchange, type Exchange } from './coa-exchange';

/** A NAS's RFC 5176 endpoint and its shared secret. */
export interface CoaTarget {
  host: string;
  port: number;
  secret: string;
}

/** The session to act on, as the NAS knows it (from radacct). */
export interface CoaSession {
  userName: string;
  acctSessionId: string;
  /** Sent when known: MikroTik needs it to find the session. */
  framedIpAddress: string | null;
}

export type CoaResult =
  | { ok: true; kind: 'ack'; attempts: number; message: string }
  | { ok: false; kind: 'nak'; attempts: number; errorCause: number | null; message: string }
  | { ok: false; kind: 'timeout'; attempts: number; message: string }
  | { ok: false; kind: 'error'; attempts: number; message: string };

export interface CoaOptions {
  /** How long each attempt waits for the answer. */
  timeoutMs: number;
  /** Extra attempts (retransmissions of the same packet) after the first. */
  retries: number;
  /**
   * The local address to send from (COA_SOURCE_ADDRESS), for NAS devices of its family; null
   * or absent: the kernel's choice.
   */
  sourceAddress?: string | null;
}

/** Injection token of the CoaOptions. */
export const COA_OPTIONS = Symbol('COA_OPTIONS');

/**
 * RFC 5176 Dynamic Authorization client: Disconnect-Request and CoA-Request to a NAS (MikroTik
 * first), with retransmissions, a verified Response Authenticator and the NAK's Error-Cause
 * spelled out. Every request resolves with a CoaResult, whatever the network does; the shared
 * secret appears in no message and no log line.
 */
@Injectable()
export class CoaClient implements OnApplicationShutdown {
  private readonly log = new Logger('CoaClient');
  private readonly inFlight = new Set<Exchange>();
  private shuttingDown = false;
  private ignored = 0;

  constructor(
    @Inject(COA_OPTIONS) private readonly opts: CoaOptions,
    @Optional() private readonly metrics?: Metrics,
  ) {
    if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
      throw new Error(`CoA timeoutMs must be a positive number, not ${opts.timeoutMs}`);
    }
    if (!Number.isInteger(opts.retries) || opts.retries < 0) {
      throw new Error(`CoA retries must be a whole number >= 0, not ${opts.retries}`);
    }
  }

  /** Datagrams ignored so far: malformed, a wrong identifier or code, a bad authenticator. */
  get ignoredResponses(): number {
    return this.ignored;
  }

  /** Disconnect-Request: ends the session on the NAS. */
  disconnect(target: CoaTarget, session: CoaSession): Promise<CoaResult> {
    return this.request(target, 'Disconnect-Request', session, () => sessionAttributes(session));
  }

  /** CoA-Request with Mikrotik-Rate-Limit (e.g. "5120k/10240k", upload first). */
  changeRate(target: CoaTarget, session: CoaSession, rateLimit: string): Promise<CoaResult> {
    return this.request(target, 'CoA-Request', session, () => [
      ...sessionAttributes(session),
      rateLimitAttribute(rateLimit),
    ]);
  }

  /** Gives up the requests in flight (they resolve as errors) and closes their sockets. */
  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    const pending = [...this.inFlight];
    for (const exchange of pending) exchange.abort('radgraph is shutting down');
    await Promise.all(pending.map((exchange) => exchange.result));
  }

  private async request(
    target: CoaTarget,
    code: CoaRequestCode,
    session: CoaSession,
    attributes: () => CoaAttribute[],
  ): Promise<CoaResult> {
    const result = await this.send(target, code, session, attributes);
    this.metrics?.coaRequests.inc({ request: code, result: result.kind });
    return result;
  }

  private async send(
    target: CoaTarget,
    code: CoaRequestCode,
    session: CoaSession,
    attributes: () => CoaAttribute[],
  ): Promise<CoaResult> {
    const where = formatTarget(target);
    if (this.shuttingDown) {
      return {
        ok: false,
        kind: 'error',
        attempts: 0,
        message: `${code} to ${where} not sent: radgraph is shutting down`,
      };
    }
    let packet: Buffer;
    try {
      if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
        throw new CoaInputError(`port ${target.port} is not a UDP port`);
      }
      // One socket per request: any identifier is unique on it.
      packet = encodeCoaRequest(code, randomInt(256), target.secret, attributes());
    } catch (err) {
      if (!(err instanceof CoaInputError)) throw err;
      return {
        ok: false,
        kind: 'error',
        attempts: 0,
        message: `${code} to ${where} not sent: ${err.message}`,
      };
    }

    let loggedIgnored = false;
    const exchange = startExchange({
      target,
      code,
      packet,
      timeoutMs: this.opts.timeoutMs,
      retries: this.opts.retries,
      sourceAddress: this.opts.sourceAddress ?? null,
      onIgnored: (reason) => {
        this.ignored++;
        if (loggedIgnored) return;
        loggedIgnored = true; // once per request: a flood of junk is counted, not logged
        this.log.warn(`ignored a response from ${where} to a ${code}: ${reason}`);
      },
    });
    this.inFlight.add(exchange);
    try {
      const result = await exchange.result;
      const who = `${JSON.stringify(session.userName)} (session ${JSON.stringify(session.acctSessionId)})`;
      this.log.debug(`${code} for ${who}: ${result.message}`);
      return result;
    } finally {
      this.inFlight.delete(exchange);
    }
  }
}
