import { BlockList, isIP, SocketAddress } from 'node:net';

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
export function normalizeAddress(address: string): string {
  if (!address.startsWith('::')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** An address's bytes (4 or 16), from a form isIP accepts. */
function addressBytes(address: string, family: 4 | 6): number[] {
  if (family === 4) return address.split('.').map(Number);
  const canonical = new SocketAddress({ address, family: 'ipv6' }).address;
  const [head, tail] = canonical.split('::');
  const groups = (part: string | undefined) =>
    !part
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number); // an IPv4 tail: ::ffff:10.0.0.1
          return [a * 256 + b, c * 256 + d];
        });
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function addressText(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/**
 * A nasname in the form FreeRADIUS compares clients in, or null when it is neither an address
 * nor a network: IPv6 lower-case and compressed ("2001:DB8:0::1" is "2001:db8::1", a zone id
 * dropped), a network by its first address ("10.9.0.7/24" is "10.9.0.0/24"), and a /32 (/128)
 * the address alone. FreeRADIUS takes two nasnames of one form for one client: it loads the
 * first and skips the other ("Failed to add duplicate client"), whatever its secret.
 */
export function canonicalNasName(nasname: string): string | null {
  const [address, bitsText, extra] = nasname.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return null;
  const bytes = addressBytes(address, family === 4 ? 4 : 6);
  if (bitsText === undefined) return addressText(bytes);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > bytes.length * 8) return null;
  if (bits === bytes.length * 8) return addressText(bytes);
  const masked = bytes.map((b, i) => {
    const keep = Math.min(8, Math.max(0, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  return `${addressText(masked)}/${bits}`;
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
        // The canonical form: a packet's source address and radacct's nasipaddress are in it.
        const key = canonicalNasName(address) ?? address;
        this.exact.set(normalizeAddress(key), value);
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
