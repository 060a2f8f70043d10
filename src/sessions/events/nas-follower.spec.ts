import type { DataSource } from 'typeorm';
import type { SubscriptionEndedError } from '../../common/pubsub/coalescing-queue';
import { NasChanges } from '../../nas/nas-changes';
import { NasClients, REFRESH_MS } from '../../nas/nas-clients';
import { NasFollower } from './nas-follower';

/** A nas table whose reads answer when the test says, with the rows as they were then. */
function heldTable() {
  let rows = [{ id: 1, nasname: '10.0.0.1', secret: 's' }];
  const reads: Array<() => void> = [];
  const dataSource = {
    getRepository: () => ({
      find: () => {
        const seen = rows.map((r) => ({ ...r }));
        return new Promise((resolve) => reads.push(() => resolve(seen)));
      },
    }),
  } as unknown as DataSource;
  return {
    dataSource,
    rename: (nasname: string) => (rows = [{ ...rows[0], nasname }]),
    answer: async () => {
      reads.splice(0).forEach((read) => read());
      await new Promise((r) => setImmediate(r));
    },
    get pending() {
      return reads.length;
    },
  };
}

describe('NasFollower', () => {
  let follower: NasFollower;
  afterEach(() => follower?.close());

  it('ends a subscription only on a load begun after it read its nasname, and reloads at once after a nas write here', async () => {
    const table = heldTable();
    const changes = new NasChanges();
    const clients = new NasClients(table.dataSource, changes);
    follower = new NasFollower(clients, changes);
    // A load reads the table as it was (10.0.0.1) and answers late, after the subscription
    // began with the new name: it is older than what the subscription read, so no end.
    const early = clients.refresh();
    table.rename('10.0.0.9');
    const ended: SubscriptionEndedError[] = [];
    follower.follow('1', '10.0.0.9', (err) => ended.push(err));
    await table.answer();
    await early;
    expect(ended).toEqual([]);

    // Renamed through this instance while a load begun before the write is still reading:
    // the write's reload is a new read (not that one), and it ends the subscription.
    clients.invalidate(); // as REFRESH_MS going by does: the next refresh reads the table
    const inFlight = clients.refresh();
    table.rename('10.0.0.10');
    changes.emit();
    expect(table.pending).toBe(2);
    await table.answer();
    await inFlight;
    expect(ended.map((e) => [e.code, e.field])).toEqual([['NAS_CHANGED', 'nasId']]);
    expect(ended[0].message).toContain('10.0.0.10');
  });

  it('ends with NOT_FOUND when a load has no such NAS', async () => {
    const table = heldTable();
    const changes = new NasChanges();
    const clients = new NasClients(table.dataSource, changes);
    follower = new NasFollower(clients, changes);
    const ended: SubscriptionEndedError[] = [];
    follower.follow('2', '10.0.0.2', (err) => ended.push(err));
    changes.emit();
    await table.answer();
    expect(ended.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', 'nasId']]);
  });

  it('sees a rename through another instance or tool within REFRESH_MS, on an instance that reads the table for nothing else', async () => {
    jest.useFakeTimers();
    try {
      let nasname = '10.0.0.1';
      const dataSource = {
        getRepository: () => ({
          find: () => Promise.resolve([{ id: 3, nasname, secret: 's' }]),
        }),
      } as unknown as DataSource;
      const changes = new NasChanges();
      const clients = new NasClients(dataSource, changes);
      follower = new NasFollower(clients, changes);
      await clients.refresh();
      const ended: SubscriptionEndedError[] = [];
      // A subscription stops being followed once it ends, as the bus's do.
      const follow = (name: string) => {
        const stop = follower.follow('3', name, (err) => {
          ended.push(err);
          stop();
        });
      };
      follow('10.0.0.1');
      // Renamed elsewhere, again and again: each is seen within REFRESH_MS (30 s) and a second.
      for (let n = 2; n <= 5; n++) {
        nasname = `10.0.0.${n}`;
        await jest.advanceTimersByTimeAsync(REFRESH_MS + 1_000);
        expect(ended.map((e) => e.code)).toEqual(['NAS_CHANGED']);
        ended.length = 0;
        follow(nasname);
      }
    } finally {
      jest.useRealTimers();
    }
  });
});
