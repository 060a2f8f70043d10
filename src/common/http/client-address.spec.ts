import type { IncomingMessage } from 'node:http';
import { clientAddress, compileTrustProxy } from './client-address';

/** A request from `peer` (the socket's address) with X-Forwarded-For: `forwardedFor`. */
function request(peer: string | undefined, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const trust = compileTrustProxy(null);
    expect(clientAddress(request('127.0.0.1', '203.0.113.1'), trust)).toBe('127.0.0.1');
    expect(clientAddress(request('10.0.0.5'), trust)).toBe('10.0.0.5');
  });

  it('is the nearest untrusted address in X-Forwarded-For behind trusted proxies', () => {
    const trust = compileTrustProxy({ addresses: ['loopback', '10.0.0.0/8'] });
    // nginx appends the address it saw to whatever the client sent.
    expect(clientAddress(request('127.0.0.1', '198.51.100.1, 203.0.113.7, 10.1.2.3'), trust)).toBe(
      '203.0.113.7',
    );
    // A peer that is not a trusted proxy is the client: its header is ignored.
    expect(clientAddress(request('192.0.2.9', '203.0.113.7'), trust)).toBe('192.0.2.9');
    // A trusted proxy without the header: the proxy is all there is.
    expect(clientAddress(request('127.0.0.1'), trust)).toBe('127.0.0.1');
  });

  it('trusts exactly the given number of hops', () => {
    const one = compileTrustProxy({ hops: 1 });
    expect(clientAddress(request('10.0.0.1', '198.51.100.1, 203.0.113.7'), one)).toBe(
      '203.0.113.7',
    );
    const two = compileTrustProxy({ hops: 2 });
    expect(clientAddress(request('10.0.0.1', '198.51.100.1, 203.0.113.7'), two)).toBe(
      '198.51.100.1',
    );
  });

  it('is undefined for a socket without an address (closed)', () => {
    expect(clientAddress(request(undefined, '203.0.113.7'), compileTrustProxy({ hops: 1 }))).toBe(
      undefined,
    );
  });
});
