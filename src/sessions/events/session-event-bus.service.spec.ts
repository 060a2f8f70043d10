import type { DataSource } from 'typeorm';
import { loadConfig } from '../../config/app-config';
import type { RadAcct } from '../../database/freeradius';
import { Metrics } from '../../metrics/metrics.service';
import { SessionEventType } from '../models/session-event.model';
import { SessionEventBus } from './session-event-bus.service';

const row = (id: string, octets: string): RadAcct =>
  ({
    radAcctId: id,
    acctSessionId: `s-${id}`,
    acctUniqueId: `u-${id}`,
    username: 'kamau',
    nasIpAddress: '10.0.0.1',
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
    bus = new SessionEventBus(loadConfig({}), new Metrics({} as DataSource));
    await bus.onModuleInit();
  });

  afterEach(() => bus.onModuleDestroy());

  /** What one subscriber gets within a few turns of the event loop. */
  async function delivered(publish: () => Promise<void>): Promise<string[]> {
    const stream = bus.subscribe({});
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
});
