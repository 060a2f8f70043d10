/**
 * Seeded packet fuzzing for the accounting listener, shared by the decoder's unit fuzz test and
 * the listener's integration test: a small PRNG, byte-level mutations of valid packets, and
 * random well-signed packets. Every run is reproducible from its seed.
 */
import { resign } from './radius-packets';

/** Draws a whole number from 0 to n - 1. */
export type Draw = (n: number) => number;

/** mulberry32: a small seeded PRNG, so a failing case can be reproduced from its seed. */
export function prng(seed: number): Draw {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** The seed CI runs with: the same packets every run, so a red CI is a change, not luck. */
export const DEFAULT_FUZZ_SEED = 1592600678;

/**
 * The seed of a fuzz run: FUZZ_SEED when set (a number to replay a failure, or `random` for
 * a fresh one, to explore), else DEFAULT_FUZZ_SEED. Printed either way, so that any failing
 * run can be replayed with `FUZZ_SEED=<seed>`.
 */
export function fuzzSeed(name: string): number {
  const fromEnv = process.env.FUZZ_SEED;
  const seed =
    fromEnv === 'random'
      ? Math.floor(Math.random() * 2 ** 32) >>> 0
      : fromEnv !== undefined && fromEnv !== ''
        ? Number(fromEnv) >>> 0
        : DEFAULT_FUZZ_SEED;
  process.stdout.write(`${name}: fuzz seed ${seed} (replay with FUZZ_SEED=${seed})\n`);
  return seed;
}

export interface MutateOptions {
  /** Re-signs the mutant with this secret, in `resignTenths` out of 10 cases. */
  secret: string;
  /** How often (out of 10) the mutant is re-signed, so it passes the authenticator check. */
  resignTenths: number;
}

/**
 * A random mutation of a valid packet: bytes flipped, set, inserted, deleted, the packet
 * truncated, an attribute's length byte set to anything; then mostly the length field made
 * consistent again and the packet re-signed with the right secret, so that many mutants pass
 * the framing and authenticator checks and reach the decoder (and the database).
 */
export function mutate(base: Buffer, int: Draw, options: MutateOptions): Buffer {
  let b: Buffer = Buffer.from(base);
  for (let k = 1 + int(4); k > 0; k--) {
    const pos = int(Math.max(1, b.length));
    switch (int(6)) {
      case 0:
        b[pos] ^= 1 << int(8);
        break;
      case 1:
        b[pos] = int(256);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from([int(256)]), b.subarray(pos)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + int(8))]);
        break;
      case 4:
        b = b.subarray(0, pos);
        break;
      default: {
        // Some attribute's length byte set to anything.
        let offset = 20;
        for (let i = int(14); i > 0 && offset + 1 < b.length && b[offset + 1] >= 2; i--) {
          offset += b[offset + 1];
        }
        if (offset + 1 < b.length) b[offset + 1] = int(256);
      }
    }
  }
  // Mostly keep the length field consistent and the authenticator right, so that the
  // mutation reaches the decoder instead of stopping at the framing or authenticator check.
  if (b.length >= 4 && int(10) < 7) b.writeUInt16BE(b.length, 2);
  if (b.length >= 20 && int(10) < options.resignTenths) b = resign(b, options.secret);
  return b;
}

/** A raw attribute: type, length, value. */
export function rawAttribute(type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, value.length + 2]), value]);
}

/** An Accounting-Request (or another code) from raw attribute bytes, length field set, signed. */
export function rawRequest(attributes: Buffer[], secret: string, identifier = 9, code = 4): Buffer {
  const body = Buffer.concat(attributes);
  const packet = Buffer.concat([Buffer.from([code, identifier, 0, 0]), Buffer.alloc(16), body]);
  packet.writeUInt16BE(packet.length, 2);
  return resign(packet, secret);
}

const TYPES = [1, 4, 5, 8, 25, 26, 30, 31, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 52, 53, 55];
const MORE_TYPES = [61, 80, 87, 95, 96, 97, 123, 168];

/** A well-framed, well-signed packet of random attributes with random values. */
export function randomPacket(int: Draw, secret: string): Buffer {
  const bytes = (length: number) => {
    const b = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) b[i] = int(256);
    return b;
  };
  const attrs: Buffer[] = [];
  if (int(10) < 8) {
    attrs.push(rawAttribute(40, Buffer.from([0, 0, 0, [1, 2, 3, 7, 8, 15, 99][int(7)]])));
  }
  if (int(10) < 8) attrs.push(rawAttribute(44, bytes(1 + int(10))));
  for (let k = int(12); k > 0; k--) {
    const pick = int(3);
    const type = pick === 0 ? TYPES[int(TYPES.length)] : pick === 1 ? MORE_TYPES[int(8)] : int(256);
    let value: Buffer;
    if (type === 26 && int(10) < 7) {
      const vendor = [14988, 311, 9, 0, int(65536)][int(5)];
      const inner = bytes(int(12));
      const vsa = Buffer.from([0, 0, vendor >> 8, vendor & 255, int(30), inner.length + int(5)]);
      value = Buffer.concat([vsa, inner]);
    } else {
      value = bytes([0, 1, 2, 3, 4, 5, 6, 8, 16, 17, 18, int(40)][int(12)]);
    }
    attrs.push(rawAttribute(type, value.subarray(0, 253)));
  }
  return rawRequest(attrs, secret, int(256));
}
