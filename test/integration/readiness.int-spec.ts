import { startApp, type RunningApp } from '../support/app';
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
});
