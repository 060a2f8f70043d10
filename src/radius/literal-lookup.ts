import { lookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

/**
 * A dgram socket's address lookup (createSocket's `lookup`) for sockets that send to IP
 * literals (a RADIUS answer goes to the address its request came from): a literal is its own
 * answer, given at once. dgram's default, dns.lookup, gives it a tick later: a deferral for
 * every datagram sent. A name is still looked up.
 */
export function literalLookup(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else lookup(hostname, options, callback);
}
