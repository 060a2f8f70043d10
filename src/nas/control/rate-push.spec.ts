import { Logger } from '@nestjs/common';
import type { OpenSession } from './open-sessions';
import { RateHolds } from './rate-push';

const session = (id: string, username: string): OpenSession => ({
  id,
  username,
  acctSessionId: `s-${id}`,
  framedIpAddress: null,
  nasIpAddress: '10.0.0.1',
});

describe('RateHolds.unheld', () => {
  const log = new Logger('test');
  const sessions = [session('1', 'pair'), session('2', 'PAIR'), session('3', 'other')];
  // The data cap holds the rate of "PAIR" only (it is over its month's limit).
  const holds = () => {
    const h = new RateHolds();
    h.set((names) => Promise.resolve(names.filter((n) => n === 'PAIR')));
    return h;
  };

  it('on MariaDB, holds every session of the login whatever the case the NAS sent', async () => {
    const free = await holds().unheld(sessions, log, 'mysql');
    expect(free.map((s) => s.id)).toEqual(['3']);
  });

  it('on SQLite, where "pair" and "PAIR" are two customers, holds only the held one', async () => {
    const free = await holds().unheld(sessions, log, 'sqlite');
    expect(free.map((s) => s.id)).toEqual(['1', '3']);
  });

  it('sends to every session when whose rate is held cannot be read', async () => {
    const h = new RateHolds();
    h.set(() => Promise.reject(new Error('database down')));
    const warn = jest.spyOn(log, 'warn').mockImplementation(() => undefined);
    expect(await h.unheld(sessions, log, 'mysql')).toEqual(sessions);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('database down'));
  });
});
