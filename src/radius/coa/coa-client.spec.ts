import { CoaClient, type CoaTarget } from './coa-client';

const SECRET = 'never-in-a-message';
const TARGET: CoaTarget = { host: '192.0.2.1', port: 3799, secret: SECRET };
const SESSION = { userName: 'alice', acctSessionId: '81a00001', framedIpAddress: '10.1.0.5' };

describe('CoaClient options', () => {
  it('refuse a timeout or retry count that makes no sense, at construction', () => {
    expect(() => new CoaClient({ timeoutMs: 0, retries: 2 })).toThrow('timeoutMs');
    expect(() => new CoaClient({ timeoutMs: Number.NaN, retries: 2 })).toThrow('timeoutMs');
    expect(() => new CoaClient({ timeoutMs: 1000, retries: -1 })).toThrow('retries');
    expect(() => new CoaClient({ timeoutMs: 1000, retries: 1.5 })).toThrow('retries');
    expect(() => new CoaClient({ timeoutMs: 1000, retries: 0 })).not.toThrow();
  });
});

describe('CoaClient requests that cannot be sent', () => {
  const client = new CoaClient({ timeoutMs: 1000, retries: 2 });

  it('resolve as errors naming the problem (nothing is sent)', async () => {
    const cases = await Promise.all([
      client.disconnect(TARGET, { ...SESSION, framedIpAddress: 'nope' }),
      client.disconnect(TARGET, { ...SESSION, userName: '' }),
      client.changeRate(TARGET, SESSION, ''),
      client.disconnect({ ...TARGET, port: 0 }, SESSION),
      client.disconnect({ ...TARGET, port: 70000 }, SESSION),
    ]);
    expect(cases.map((r) => [r.kind, r.attempts, r.message])).toEqual([
      [
        'error',
        0,
        'Disconnect-Request to 192.0.2.1:3799 not sent: Framed-IP-Address "nope" is not an IPv4 address',
      ],
      ['error', 0, 'Disconnect-Request to 192.0.2.1:3799 not sent: User-Name is empty'],
      ['error', 0, 'CoA-Request to 192.0.2.1:3799 not sent: Mikrotik-Rate-Limit is empty'],
      ['error', 0, 'Disconnect-Request to 192.0.2.1:0 not sent: port 0 is not a UDP port'],
      ['error', 0, 'Disconnect-Request to 192.0.2.1:70000 not sent: port 70000 is not a UDP port'],
    ]);
    for (const r of cases) expect(r.message).not.toContain(SECRET);
  });

  it('after shutdown, resolve as errors', async () => {
    const stopped = new CoaClient({ timeoutMs: 1000, retries: 0 });
    await stopped.onApplicationShutdown();
    await expect(stopped.disconnect(TARGET, SESSION)).resolves.toEqual({
      ok: false,
      kind: 'error',
      attempts: 0,
      message: 'Disconnect-Request to 192.0.2.1:3799 not sent: radgraph is shutting down',
    });
  });

  it('name an IPv6 NAS in brackets', async () => {
    const r = await client.disconnect({ ...TARGET, host: '2001:db8::1', port: 0 }, SESSION);
    expect(r.message).toBe(
      'Disconnect-Request to [2001:db8::1]:0 not sent: port 0 is not a UDP port',
    );
  });
});
