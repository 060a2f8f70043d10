import { startApp, type RunningApp } from '../support/app';
import { LogCapture } from '../support/log-capture';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { until } from '../support/until';

/**
 * /ready through a database outage, without stopping MariaDB: the app reaches it through a TCP
 * proxy that refuses connections (`cut`) or stops answering (`freeze`).
 */
describe('/ready during a database outage', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
    proxy = await startTcpProxy(db.mysql!.port);
    const url = new URL(db.url);
    url.port = String(proxy.port);
    api = await startApp({ ...db, url: url.toString() }, { LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    proxy?.thaw();
    await api?.close();
    await proxy?.close();
    await db?.drop();
  });

  const ready = async () => {
    const res = await fetch(`${api.url}/ready`);
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) };
  };

  const readyAgain = () => until(async () => (await ready()).status === 200, '/ready to be 200');

  it('says why: the driver code when refused, the timeout when it hangs; never the address', async () => {
    expect((await ready()).status).toBe(200);

    await proxy.cut();
    let refused = await ready();
    await until(async () => {
      refused = await ready();
      return refused.body.error?.database?.message === 'ECONNREFUSED';
    }, '/ready to say ECONNREFUSED');
    expect(refused.status).toBe(503);
    expect(refused.body.status).toBe('error');
    expect(refused.body.error.database).toEqual({
      status: 'down',
      message: 'ECONNREFUSED',
      kind: 'mysql',
    });
    expect(refused.text).not.toContain(String(proxy.port));
    expect(refused.text).not.toContain('127.0.0.1');
    expect(refused.text).not.toContain(db.database);
    await proxy.restore();
    await readyAgain();

    proxy.freeze();
    const hung = await ready();
    expect(hung.status).toBe(503);
    expect(hung.body.error.database).toEqual({
      status: 'down',
      message: 'timeout of 2000ms exceeded',
      kind: 'mysql',
    });
    proxy.thaw();
    await readyAgain();
  });

  it('logs the outage once when it starts and once when it ends, not at every probe', async () => {
    expect((await ready()).status).toBe(200);
    const logs = new LogCapture().start();
    let lines: Array<Record<string, any>>;
    try {
      await proxy.cut();
      await until(
        async () => (await ready()).body.error?.database?.message === 'ECONNREFUSED',
        '/ready to say ECONNREFUSED',
      );
      // An orchestrator keeps probing: the same answer every time.
      for (let i = 0; i < 5; i++) {
        const probe = await ready();
        expect(probe.status).toBe(503);
        expect(probe.body.error.database).toEqual({
          status: 'down',
          message: 'ECONNREFUSED',
          kind: 'mysql',
        });
      }
      await proxy.restore();
      await readyAgain();
      for (let i = 0; i < 3; i++) expect((await ready()).status).toBe(200);
    } finally {
      logs.stop();
      lines = logs
        .text()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
    }
    // LOG_LEVEL=info: the probes' request lines (debug) are not written, 503 or not.
    expect(lines.filter((l) => l.req?.path === '/ready' && l.res)).toEqual([]);
    expect(lines.filter((l) => JSON.stringify(l).includes('failed with status code'))).toEqual([]);
    const readiness = lines.filter((l) => l.context === 'Readiness');
    // The first probe after the cut may find a pooled connection the proxy closed before the
    // pool saw it go (PROTOCOL_CONNECTION_LOST) rather than a refused new one: either starts
    // the outage, and the later probes' reason is not logged again.
    expect(readiness).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: expect.stringMatching(
          /^database is down \((ECONNREFUSED|PROTOCOL_CONNECTION_LOST)\): \/ready answers 503 until it is back$/,
        ),
      }),
      expect.objectContaining({
        level: 'info',
        msg: expect.stringMatching(
          /^database is back up after \d+ s down: \/ready answers 200 again$/,
        ),
      }),
    ]);
    expect(readiness[0].err).toBeUndefined();
  });
});
