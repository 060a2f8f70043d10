import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { TrustProxy } from '../../config/app-config';

/** Whether the hop `hop` away (0: the socket's peer), at `address`, is a trusted proxy. */
export type TrustFunction = (address: string | undefined, hop: number) => boolean;

/**
 * TRUST_PROXY as a proxy-addr trust function, the one Express (`trust proxy`) and radgraph's
 * own limits use. null trusts nothing: the socket's peer is the client, X-Forwarded-For is
 * ignored. A number trusts that many hops; a list trusts the proxies at those addresses.
 */
export function compileTrustProxy(trust: TrustProxy): TrustFunction {
  if (trust === null) return () => false;
  if ('hops' in trust) {
    const hops = trust.hops;
    return (_address, hop) => hop < hops;
  }
  return proxyAddr.compile([...trust.addresses]);
}

/**
 * The client's address of a request (HTTP, or a WebSocket's upgrade request): the socket's
 * peer, or, when that is a trusted proxy, the nearest address in X-Forwarded-For that is not
 * one. undefined when the socket has no address any more (closed).
 */
export function clientAddress(req: IncomingMessage, trust: TrustFunction): string | undefined {
  if (req.socket?.remoteAddress === undefined) return undefined;
  return proxyAddr(req, trust);
}
