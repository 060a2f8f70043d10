/** Why the accounting listener dropped a packet without answering it. Each is counted. */
export type DropReason =
  /** Shorter than 20 bytes, longer than 4096, a bad length field or attribute, a missing attribute. */
  | 'malformed'
  /** The source address is no NAS in the nas table. */
  | 'unknown-nas'
  /** The Request Authenticator (or Message-Authenticator) does not match the NAS's secret. */
  | 'bad-authenticator'
  /** Not an Accounting-Request. */
  | 'wrong-code'
  /** The source sent more than RADIUS_ACCT_RATE_PER_SOURCE packets/s (past its burst). */
  | 'rate-limited'
  /** Too many packets waiting for the database: the NAS retransmits later. */
  | 'overloaded'
  /** The database write failed: no Accounting-Response, so the NAS retransmits. */
  | 'write-failed';

export const DROP_REASONS: readonly DropReason[] = [
  'malformed',
  'unknown-nas',
  'bad-authenticator',
  'wrong-code',
  'rate-limited',
  'overloaded',
  'write-failed',
];

/** A packet the listener will not answer, and why. */
export class PacketDropError extends Error {
  readonly reason: DropReason;

  /** No stack trace: a flood of bad packets must not spend its CPU collecting them. */
  constructor(reason: DropReason, message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.reason = reason;
    this.name = 'PacketDropError';
  }
}
