import type { EventTransport } from '../../common/pubsub/event-transport';
import { loadConfig } from '../../config/app-config';
import type { CustomerExpiringEvent } from '../models/customer-expiring-event.model';
import { CustomerExpiringBus, reviveCustomerExpiringDates } from './customer-expiring-bus.service';

const event = (id: string): CustomerExpiringEvent => ({
  customer: {
    id,
    accountNo: `A-${id}`,
    username: `u${id}`,
    phone: null,
    name: null,
    joinedAt: new Date('2026-11-01T10:00:00Z'),
    expiresAt: new Date('2026-12-03T10:00:00Z'),
    suspended: false,
    profileId: 1,
    balanceMinor: '0',
  },
  expiresAt: new Date('2026-12-03T10:00:00Z'),
  daysLeft: 2,
});

describe('CustomerExpiringBus', () => {
  let bus: CustomerExpiringBus;

  beforeEach(async () => {
    bus = new CustomerExpiringBus(loadConfig({}));
    await bus.onModuleInit();
  });

  afterEach(async () => {
    bus.onModuleDestroy();
    await bus.onApplicationShutdown();
  });

  /** The customer ids one subscriber gets from `publish`, within a few turns of the loop. */
  async function delivered(publish: () => Promise<void>): Promise<string[]> {
    const stream = bus.subscribe();
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of stream) got.push(`${e.customer.id} ${e.expiresAt.toISOString()}`);
    })();
    await publish();
    await new Promise((r) => setTimeout(r, 20));
    await stream.return?.();
    await reading;
    return got;
  }

  it('delivers what it publishes through the transport, once each', async () => {
    expect(
      await delivered(async () => {
        expect(await bus.publish(event('1'))).toBe(true);
        expect(await bus.publish(event('2'))).toBe(true);
      }),
    ).toEqual(['1 2026-12-03T10:00:00.000Z', '2 2026-12-03T10:00:00.000Z']);
  });

  it('delivers here when the transport fails, and not again when the transport had it after all', async () => {
    const transport = (bus as unknown as { transport: EventTransport }).transport;
    let sent: unknown = null;
    jest.spyOn(transport, 'publish').mockImplementation((payload) => {
      sent = payload;
      return Promise.reject(new Error('Command timed out'));
    });
    expect(
      await delivered(async () => {
        expect(await bus.publish(event('3'))).toBe(false);
        // Redis had it after all: the copy that comes back is not delivered again.
        await transport.engine.publish(transport.channel, sent);
      }),
    ).toEqual(['3 2026-12-03T10:00:00.000Z']);
  });

  it('revives the times that JSON carries as text', () => {
    const back = JSON.parse(
      JSON.stringify({ publishId: 'x:1', event: event('4') }),
      reviveCustomerExpiringDates,
    ) as { event: CustomerExpiringEvent };
    expect(back.event).toEqual(event('4'));
  });
});
