import type { DataSource } from 'typeorm';
import { loadConfig } from '../../config/app-config';
import type { RadAcct } from '../../database/freeradius';
import { Metrics } from '../../metrics/metrics.service';
import { NasChanges } from '../../nas/nas-changes';
import { NasClients } from '../../nas/nas-clients';
import { SessionEventType } from '../models/session-event.model';
import { SessionEventBus } from './session-event-bus.service';
import type { SessionEventTransport } from './session-event-transport';
import type { SessionEventFilter } from './session-event-bus.service';

/** NasClients on a nas table of these names (no database; `names` is read at each load). */
const clientsOf = (names: string[], changes = new NasChanges()) =>
  new NasClients(
    {
      getRepository: () => ({
        find: () => Promise.resolve(names.map((nasname) => ({ nasname, secret: 's' }))),
      }),
    } as unknown as DataSource,
    changes,
  );

const row = (id: string, octets: string, nasIpAddress = '10.0.0.1'): RadAcct =>
  ({
    radAcctId: id,
    acctSessionId: `s-${id}`,
    acctUniqueId: `u-${id}`,
    username: 'kamau',
    nasIpAddress,
    acctStartTime: new Date('2026-12-01T10:00:00Z'),
    acctUpdateTime: new Date('2026-12-01T10:05:00Z'),
    acctStopTime: null,
    acctInputOctets: octets,
    acctOutputOctets: '0',
  }) as unknown as RadAcct;

describe('SessionEventBus', () => {
  let bus: SessionEventBus;

  beforeEach(async () => {
    // No database behind the metrics: only the pool gauge reads it, at a scrape.
    bus = new SessionEventBus(
      loadConfig({}),
      new Metrics({} as DataSource),
      clientsOf([]),
      new NasChanges(),
    );
    await bus.onModuleInit();
  });

  afterEach(async () => {
    bus.onModuleDestroy();
    await bus.onApplicationShutdown();
  });

  /** What one subscriber gets within a few turns of the event loop. */
  async function delivered(
    publish: () => Promise<void>,
    filter: SessionEventFilter = {},
  ): Promise<string[]> {
    const stream = bus.subscribe(await bus.prepare(filter));
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of stream) got.push(`${e.type} ${e.session.uploadBytes}`);
    })();
    await publish();
    await new Promise((r) => setTimeout(r, 20));
    await stream.return?.();
    await reading;
    return got;
  }

  it('delivers a change-feed event once when the feed publishes its page again', async () => {
    const page = [
      { type: SessionEventType.STARTED, row: row('1', '0'), feedSeq: '41' },
      { type: SessionEventType.UPDATED, row: row('2', '7'), feedSeq: '42' },
    ];
    expect(
      await delivered(async () => {
        await bus.publish(page);
        await bus.publish(page); // a reader that died before deleting it, read again
        await bus.publish([{ type: SessionEventType.UPDATED, row: row('1', '9'), feedSeq: '43' }]);
        // The queue's counter reset (a TRUNCATE): a seq seen before, for another change.
        await bus.publish([{ type: SessionEventType.STARTED, row: row('5', '0'), feedSeq: '41' }]);
      }),
    ).toEqual(['STARTED 0', 'UPDATED 7', 'UPDATED 9', 'STARTED 0']);
  });

  it("delivers the listener's events (no feed seq) every time", async () => {
    const events = [{ type: SessionEventType.UPDATED, row: row('3', '5') }];
    expect(
      await delivered(async () => {
        await bus.publish(events);
        await bus.publish(events);
      }),
    ).toEqual(['UPDATED 5', 'UPDATED 5']);
  });

  it('gives its own rules the events before the transport has them, and its subscribers too when the transport fails', async () => {
    const transport = (bus as unknown as { transport: SessionEventTransport }).transport;
    let sent: unknown = null;
    let fail: (err: Error) => void = () => undefined;
    jest.spyOn(transport, 'publish').mockImplementation((payload) => {
      sent = payload;
      return new Promise<void>((_, reject) => (fail = reject));
    });
    const ownRules: string[] = [];
    bus.onEvents((events) => ownRules.push(...events.map((e) => e.type)));
    const events = [{ type: SessionEventType.STARTED, row: row('4', '0') }];
    const stream = bus.subscribe({});
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of stream) got.push(`${e.type} ${e.session.uploadBytes}`);
    })();
    const publishing = bus.publish(events);
    expect(ownRules).toEqual(['STARTED']); // before Redis answered
    fail(new Error('Command timed out'));
    expect(await publishing).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['STARTED 0']); // delivered here
    // Redis had it after all: the copy that comes back is not delivered again.
    await transport.engine.publish(transport.channel, sent);
    await new Promise((r) => setTimeout(r, 20));
    await stream.return?.();
    await reading;
    expect(got).toEqual(['STARTED 0']);
  });

  it('delivers a batch once when its copy came back through the transport before its publish failed', async () => {
    const transport = (bus as unknown as { transport: SessionEventTransport }).transport;
    let fail: (err: Error) => void = () => undefined;
    jest.spyOn(transport, 'publish').mockImplementation(async (payload) => {
      // Redis took the message and sent it to every subscriber, this instance's included; the
      // answer to the PUBLISH is what comes too late.
      await transport.engine.publish(transport.channel, payload);
      return new Promise<void>((_, reject) => (fail = reject));
    });
    const stream = bus.subscribe({});
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of stream) got.push(`${e.type} ${e.session.uploadBytes}`);
    })();
    const publishing = bus.publish([{ type: SessionEventType.UPDATED, row: row('6', '3') }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['UPDATED 3']); // through the transport
    fail(new Error('Command timed out'));
    expect(await publishing).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    await stream.return?.();
    await reading;
    expect(got).toEqual(['UPDATED 3']); // not a second time
  });

  it('gives a NAS entered as a network the sessions of its addresses that no other nas row claims', async () => {
    bus.onModuleDestroy();
    await bus.onApplicationShutdown();
    const names = ['10.0.0.0/16', '10.0.0.5', '10.0.9.0/24', '10.1.0.1'];
    bus = new SessionEventBus(
      loadConfig({}),
      new Metrics({} as DataSource),
      clientsOf(names),
      new NasChanges(),
    );
    await bus.onModuleInit();
    const publish = async () => {
      await bus.publish(
        ['10.0.0.5', '10.0.0.6', '10.0.9.7', '10.0.200.1', '10.1.0.1'].map((address, i) => ({
          type: SessionEventType.STARTED,
          row: row(String(i), '0', address),
        })),
      );
    };
    const sessionsOf = async (nasName: string) => (await delivered(publish, { nasName })).length;
    // 10.0.0.6 and 10.0.200.1: 10.0.0.5 has a row of its own, 10.0.9.7 a longer network.
    expect(await sessionsOf('10.0.0.0/16')).toBe(2);
    expect(await sessionsOf('10.0.9.0/24')).toBe(1);
    expect(await sessionsOf('10.0.0.5')).toBe(1);
    expect(await sessionsOf('10.1.0.1')).toBe(1);
  });

  it('announces a batch subscriber that asked with an empty batch, to it alone, before any event', async () => {
    const plain = bus.subscribeBatches({}, 0);
    const announced = bus.subscribeBatches({}, 0, true);
    const first = await announced.next();
    expect(first.value).toEqual([]);
    await bus.publish([{ type: SessionEventType.STOPPED, row: row('6', '3') }]);
    const [mine, theirs] = [(await announced.next()).value, (await plain.next()).value];
    // The group's batch, the same array for both: the empty one went to the asker only.
    expect(mine).toBe(theirs);
    expect(mine.map((e: { type: string }) => e.type)).toEqual(['STOPPED']);
    expect(await Promise.race([plain.next(), new Promise((r) => setTimeout(r, 20, 'none'))])).toBe(
      'none',
    );
  });

  it("follows a change of the nas table: an address given its own row leaves the network's events", async () => {
    bus.onModuleDestroy();
    await bus.onApplicationShutdown();
    const names = ['10.0.0.0/16'];
    const changes = new NasChanges();
    bus = new SessionEventBus(
      loadConfig({}),
      new Metrics({} as DataSource),
      clientsOf(names, changes),
      changes,
    );
    await bus.onModuleInit();
    const publish = (id: string) =>
      bus.publish([{ type: SessionEventType.STARTED, row: row(id, '0', '10.0.0.5') }]);
    // One subscription, open before and after the change (no new subscription reads the list).
    const stream = bus.subscribe(await bus.prepare({ nasName: '10.0.0.0/16' }));
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of stream) got.push(e.session.id);
    })();
    const turns = () => new Promise((r) => setTimeout(r, 20));
    await publish('1');
    await turns();
    names.push('10.0.0.5'); // createNas, as NasAdminService announces it
    changes.emit();
    // The first event after the change may still go by the old list while it is read again.
    await publish('2');
    await turns();
    await publish('3');
    await turns();
    await stream.return?.();
    await reading;
    expect(got[0]).toBe('1');
    expect(got).not.toContain('3');
  });
});
