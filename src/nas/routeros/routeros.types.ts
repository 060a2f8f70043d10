export interface RouterOsTarget {
  /** Cache key of the pooled connection, e.g. the NAS id. */
  key: string;
  host: string;
  /** 8728 plain, 8729 TLS. */
  port: number;
  user: string;
  password: string;
  tls: boolean;
  /**
   * With TLS: check the router's certificate (default). false accepts any certificate, for
   * RouterOS's usual self-signed api-ssl one (the traffic is still encrypted).
   */
  tlsVerify?: boolean;
}

export interface PppActive {
  /** RouterOS ".id", e.g. "*1A". */
  id: string;
  name: string;
  service: string | null;
  callerId: string | null;
  address: string | null;
  uptime: string | null;
  sessionId: string | null;
}

export interface RouterHealth {
  identity: string;
  uptime: string | null;
  version: string | null;
}

export interface TrafficSample {
  rxBitsPerSecond: number;
  txBitsPerSecond: number;
}

/**
 * refused: ECONNREFUSED. timeout: the connect (TCP + login) or a command took longer than its
 * option. auth: the login was refused. trap: the router answered `!trap` (its message).
 * connection: anything else (reset, closed, `!fatal`, an unexpected reply).
 */
export type RouterOsErrorKind = 'timeout' | 'refused' | 'auth' | 'trap' | 'connection';

export class RouterOsError extends Error {
  override readonly name = 'RouterOsError';

  constructor(
    readonly kind: RouterOsErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface RouterOsOptions {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  idleCloseMs: number;
}

/** Injection token for RouterOsOptions. */
export const ROUTEROS_OPTIONS = Symbol('ROUTEROS_OPTIONS');
