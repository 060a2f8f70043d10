import { MAX_RATE_KBPS } from './profile-rules';

/** A Mikrotik-Rate-Limit's base rate, or why it cannot be read. */
export type ParsedRateLimit =
  { ok: true; uploadRateKbps: number; downloadRateKbps: number } | { ok: false; reason: string };

const UNITS: Record<string, number> = { '': 1, k: 1_000, K: 1_000, M: 1_000_000, G: 1_000_000_000 };

/**
 * The base rate of a MikroTik rate limit as FreeRADIUS replies it (`Mikrotik-Rate-Limit`):
 * `rx[/tx] [burst-rx/burst-tx [threshold-rx/threshold-tx [time-rx/time-tx [priority [min]]]]]`.
 * Only the first pair counts: rx is what the router receives from the customer (upload), tx
 * what it sends (download); a lone rate is both. Rates are bits a second with an optional
 * k, M or G (MikroTik's decimal units: 1k = 1000), e.g. "10M/10M", "512k/2M", "2000000".
 */
export function parseRateLimit(value: string): ParsedRateLimit {
  const first = value.trim().split(/\s+/)[0] ?? '';
  const parts = first.split('/');
  if (first === '' || parts.length > 2) {
    return { ok: false, reason: `Mikrotik-Rate-Limit "${value}" is not rx/tx` };
  }
  const rates: number[] = [];
  for (const part of parts) {
    const m = /^(\d+(?:\.\d+)?)([kKMG]?)$/.exec(part);
    if (!m) {
      return {
        ok: false,
        reason: `Mikrotik-Rate-Limit "${value}": "${part}" is not a rate (bits a second, with k, M or G)`,
      };
    }
    const kbps = (Number(m[1]) * UNITS[m[2]]) / 1000;
    if (kbps === 0) {
      return {
        ok: false,
        reason: `Mikrotik-Rate-Limit "${value}": a rate of 0 is no limit to MikroTik, and a profile needs a speed`,
      };
    }
    if (!Number.isInteger(kbps)) {
      return {
        ok: false,
        reason: `Mikrotik-Rate-Limit "${value}": "${part}" is not a whole number of kbit/s`,
      };
    }
    if (kbps > MAX_RATE_KBPS) {
      return {
        ok: false,
        reason: `Mikrotik-Rate-Limit "${value}": "${part}" is over ${MAX_RATE_KBPS} kbit/s`,
      };
    }
    rates.push(kbps);
  }
  return { ok: true, uploadRateKbps: rates[0], downloadRateKbps: rates[1] ?? rates[0] };
}
