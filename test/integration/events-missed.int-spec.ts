import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import type { RadAcct } from '../../src/database/freeradius';
import { Metrics } from '../../src/metrics/metrics.service';
import { NasChanges } from '../../src/nas/nas-changes';
import { NasClients } from '../../src/nas/nas-clients';
import { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import { SessionEventType } from '../../src/sessions/models/session-event.model';
import { requireRedis } from '../support/redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/until';

const row = (id: string): RadAcct =>
  ({
    radAcctId: id,
    acctSessionId: `s-${id}`,
    acctUniqueId: `missed-${id}`,
    username: 'missed',
    nasIpAddress: '10.0.0.1',
    acctStartTime: new Date('2026-12-01T10:00:00Z'),
    acctUpdateTime: new Date('2026-12-01T10:05:00Z'),
    acctStopTime: null,
    acctInputOctets: '0',
    acctOutputOctets: '0',
  }) as unknown as RadAcct;

type Event = { session: { uniqueId: string } };

/** A subscription's events (unique ids) and the code it ended with, if it ended. */
function read(stream: AsyncIterableIterator<Event | Event[]>) {
  const got = { ids: [] as string[], code: undefined as string | undefined };
  void (async () => {
    try {
      for await (const e of stream) {
        for (const one of Array.isArray(e) ? e : [e]) got.ids.push(one.session.uniqueId);
      }
    } catch (err) {
      got.code = (err as { code?: string }).code;
    }
  })();
  return { got, stop: () => void stream.return?.() };
}

/**
 * Two instances' session event buses on one Redis (a real one), B's through a proxy that can
 * cut it off. When B publishes again after its publishes failed, A's subscriptions that may
 * have missed them end with EVENTS_MISSED; one made after B's last failed publish missed
 * nothing, and goes on (a client that subscribed again after an EVENTS_MISSED of its own
 * instance, on the same Redis outage, was ended a second time: once more for every other
 * instance that had failed publishes, each a reload of its sessions).
 */
describe('EVENTS_MISSED after another instance could not publish, on Redis', () => {
  let proxy: TcpProxy;
  let a: SessionEventBus;
  let b: SessionEventBus;

  const bus = async (redisUrl: string, database: string) => {
    const changes = new NasChanges();
    const clients = new NasClients(
      {
        getRepository: () => ({ find: () => Promise.resolve([]) }),
      } as unknown as DataSource,
      changes,
    );
    const config = loadConfig({ REDIS_URL: redisUrl, DATABASE_URL: database });
    const created = new SessionEventBus(config, new Metrics({} as DataSource), clients, changes);
    await created.onModuleInit();
    return created;
  };

  beforeAll(async () => {
    const redisUrl = await requireRedis();
    const direct = new URL(redisUrl);
    proxy = await startTcpProxy(Number(direct.port || 6379), direct.hostname);
    const throughProxy = new URL(redisUrl);
    throughProxy.hostname = '127.0.0.1';
    throughProxy.port = String(proxy.port);
    // A deployment of its own: its own channel on the shared Redis.
    const database = `sqlite:${join(tmpdir(), `missed-${randomBytes(6).toString('hex')}.sqlite`)}`;
    a = await bus(redisUrl, database);
    b = await bus(throughProxy.toString(), database);
    await until(
      async () => (await a.ping()) === null && (await b.ping()) === null,
      'both buses on Redis',
      { timeoutMs: 10_000 },
    );
  });

  afterAll(async () => {
    for (const x of [a, b]) {
      x?.onModuleDestroy();
      await x?.onApplicationShutdown();
    }
    await proxy?.close();
  });

  it('ends the subscriptions made before its last failed publish, and only those', async () => {
    const before = read(a.subscribe({}));
    const batchesBefore = read(a.subscribeBatches({}, 0));
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 300)); // B's connections have seen it
    expect(await b.publish([{ type: SessionEventType.STARTED, row: row('1') }])).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    // Made after B's failed publish: it missed nothing of B's.
    const after = read(a.subscribe({}));
    await proxy.restore();

    await until(
      () => before.got.code === 'EVENTS_MISSED' && batchesBefore.got.code === 'EVENTS_MISSED',
      'EVENTS_MISSED on the subscriptions made before',
      { timeoutMs: 15_000 },
    );
    // B publishes again, through Redis: the one made after gets it, and goes on.
    await until(
      async () => (await b.publish([{ type: SessionEventType.UPDATED, row: row('2') }])) === true,
      'B to publish again',
      { timeoutMs: 10_000, everyMs: 200 },
    );
    await until(() => after.got.ids.includes('missed-2'), 'the event after, on A');
    await new Promise((r) => setTimeout(r, 500));
    expect(after.got.code).toBeUndefined();
    expect(before.got.ids).toEqual([]);
    after.stop();
  });
});
