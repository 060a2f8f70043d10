import { createHmac, timingSafeEqual } from 'node:crypto';

/** The HMAC of a delivery: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'X-Radgraph-Signature';
/** Unix seconds when the delivery was signed; part of the signed content. */
export const TIMESTAMP_HEADER = 'X-Radgraph-Timestamp';
/** The event's id: the same on every retry, so a receiver can drop duplicates. */
export const DELIVERY_HEADER = 'X-Radgraph-Delivery';
/** The event's type, e.g. `customerExpiring`. */
export const EVENT_HEADER = 'X-Radgraph-Event';

/**
 * `sha256=` and the hex HMAC-SHA256, keyed with WEBHOOK_SECRET, of
 * `<X-Radgraph-Timestamp>.<raw body>`: the timestamp is signed too, so a captured delivery
 * cannot be replayed later under a new one.
 */
export function webhookSignature(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex')}`;
}

/**
 * What a receiver does (README): recompute the signature over the raw body as received,
 * compare in constant time, and refuse a timestamp older than `toleranceSeconds`.
 */
export function verifyWebhookSignature(opts: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  now?: Date;
  toleranceSeconds?: number;
}): boolean {
  const { timestamp, signature } = opts;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return false;
  }
  const age = Math.abs((opts.now ?? new Date()).getTime() / 1000 - Number(timestamp));
  if (age > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(opts.secret, timestamp, opts.rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
