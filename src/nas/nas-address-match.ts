import { BlockList, isIP } from 'node:net';

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
export function normalizeAddress(address: string): string {
  if (!address.startsWith('::')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** Whether a nasname is a network ("10.0.0.0/24", for several addresses), not one address. */
export function isNasNetwork(nasname: string): boolean {
  return nasname.includes('/');
}

interface Prefix<T> {
  list: BlockList;
  bits: number;
  value: T;
}

/**
 * Finds the nas row an address belongs to, the way FreeRADIUS's client lookup does: a nasname
 * that is the address itself first, then the longest network ("10.0.0.0/24") that holds it.
 * Shared by the accounting listener (a packet's source address) and by whatever acts on a
 * session's NAS (radacct.nasipaddress).
 */
export class NasAddressMatcher<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefixes: Prefix<T>[] = [];
  /** The entries whose nasname is neither an address nor a network; they match nothing. */
  readonly invalid: T[] = [];

  constructor(entries: Iterable<readonly [nasname: string, value: T]>) {
    for (const [nasname, value] of entries) {
      const [address, bitsText, extra] = nasname.split('/');
      if (bitsText === undefined) {
        this.exact.set(normalizeAddress(address), value);
        continue;
      }
      const family = isIP(address);
      const bits = Number(bitsText);
      const list = new BlockList();
      try {
        if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(bitsText)) {
          throw new Error('not a network');
        }
        list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
      } catch {
        this.invalid.push(value);
        continue;
      }
      this.prefixes.push({ list, bits, value });
    }
    this.prefixes.sort((a, b) => b.bits - a.bits);
  }

  /** The entry `address` belongs to, or null. */
  find(address: string): T | null {
    const normal = normalizeAddress(address);
    const exact = this.exact.get(normal);
    if (exact !== undefined) return exact;
    if (this.prefixes.length === 0) return null;
    const family = isIP(normal);
    if (family === 0) return null;
    for (const p of this.prefixes) {
      if (p.list.check(normal, family === 4 ? 'ipv4' : 'ipv6')) return p.value;
    }
    return null;
  }
}
