import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DatabaseClockCheck, databaseZoneProblem } from './database-clock';

describe('databaseZoneProblem', () => {
  const zone = (offsets: number[], timeZone = 'SYSTEM', systemZone = 'UTC') => ({
    timeZone,
    systemZone,
    offsets,
  });

  it('is null for a zone that is UTC all year', () => {
    expect(databaseZoneProblem(zone([0, 0]))).toBeNull();
  });

  it('names a zone whose offset changes in the year (the southern hemisphere too), at each month', () => {
    expect(databaseZoneProblem(zone([39_600, 36_000], 'SYSTEM', 'AEDT'))).toContain(
      "(time_zone SYSTEM, the server's zone AEDT: UTC+11 in January, UTC+10 in July)",
    );
    // UTC in winter: right today, wrong from March.
    expect(databaseZoneProblem(zone([0, 3600], 'SYSTEM', 'GMT'))).toContain(
      'UTC in January, UTC+1 in July',
    );
  });

  it('writes minutes when the offset has them, and west as minus', () => {
    expect(databaseZoneProblem(zone([20_700, 20_700], '+05:45'))).toContain(
      '(time_zone +05:45: UTC+5:45)',
    );
    expect(databaseZoneProblem(zone([-12_600, -9_000], 'America/St_Johns'))).toContain(
      'UTC-3:30 in January, UTC-2:30 in July',
    );
  });
});

describe('DatabaseClockCheck', () => {
  const check = (type: string, query: jest.Mock) =>
    new DatabaseClockCheck({ options: { type }, query } as unknown as DataSource);

  afterEach(() => jest.restoreAllMocks());

  it('warns at start when the server is not in UTC, and says why it could not tell', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const utc = Date.UTC(2026, 0, 15, 12) / 1000;
    const july = Date.UTC(2026, 6, 15, 12) / 1000;
    await check(
      'mariadb',
      jest
        .fn()
        .mockResolvedValue([{ at0: utc - 3600, at1: july - 7200, tz: 'SYSTEM', sys: 'CET' }]),
    ).onApplicationBootstrap();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('UTC+1 in January, UTC+2 in July'));
    warn.mockClear();
    await check(
      'mariadb',
      jest.fn().mockResolvedValue([{ at0: utc, at1: july, tz: '+00:00', sys: 'CET' }]),
    ).onApplicationBootstrap();
    expect(warn).not.toHaveBeenCalled();
    await check(
      'mysql',
      jest.fn().mockRejectedValue(new Error('ECONNRESET')),
    ).onApplicationBootstrap();
    expect(warn).toHaveBeenCalledWith("cannot read the MySQL server's time zone: ECONNRESET");
  });

  it('asks nothing of SQLite, whose times are UTC', async () => {
    const query = jest.fn();
    await check('better-sqlite3', query).onApplicationBootstrap();
    expect(query).not.toHaveBeenCalled();
  });
});
