import type { DataSource } from 'typeorm';
import type { NasService } from '../nas/nas.service';
import {
  ONLINE_TOTALS_MAX_AGE_MS,
  OnlineSessionsService,
  type OnlineTotals,
} from './online-sessions.service';

describe('OnlineSessionsService.summary', () => {
  let service: OnlineSessionsService;
  let reads: Array<{ resolve: (t: OnlineTotals) => void; reject: (e: Error) => void }>;
  const totals = (total: number): OnlineTotals => ({ total, byNas: [] });

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    service = new OnlineSessionsService({} as DataSource, {} as NasService);
    reads = [];
    jest
      .spyOn(service, 'readTotals')
      .mockImplementation(() => new Promise((resolve, reject) => reads.push({ resolve, reject })));
  });

  afterEach(() => jest.useRealTimers());

  const settle = () => jest.advanceTimersByTimeAsync(0);

  it('shares one read among the requests that come while it runs', async () => {
    const a = service.summary();
    const b = service.summary();
    expect(reads).toHaveLength(1);
    reads[0].resolve(totals(5));
    expect(await a).toEqual(totals(5));
    expect(await b).toEqual(totals(5));
  });

  it('serves a read for its max age, renews it ahead of time, and never serves it older', async () => {
    const first = service.summary();
    reads[0].resolve(totals(1));
    await first;
    jest.setSystemTime(1_000_000 + ONLINE_TOTALS_MAX_AGE_MS / 2 - 1);
    expect(await service.summary()).toEqual(totals(1));
    expect(reads).toHaveLength(1);
    // From half the max age on: the last totals still, and a new read in the background.
    jest.setSystemTime(1_000_000 + ONLINE_TOTALS_MAX_AGE_MS / 2);
    expect(await service.summary()).toEqual(totals(1));
    expect(reads).toHaveLength(2);
    expect(await service.summary()).toEqual(totals(1));
    expect(reads).toHaveLength(2);
    // At the max age the last totals are too old: the request waits for the read under way.
    jest.setSystemTime(1_000_000 + ONLINE_TOTALS_MAX_AGE_MS);
    const waiting = service.summary();
    reads[1].resolve(totals(2));
    expect(await waiting).toEqual(totals(2));
    expect(reads).toHaveLength(2);
  });

  it('does not keep a failed read', async () => {
    const failed = service.summary();
    reads[0].reject(new Error('down'));
    await expect(failed).rejects.toThrow('down');
    await settle();
    const next = service.summary();
    expect(reads).toHaveLength(2);
    reads[1].resolve(totals(3));
    expect(await next).toEqual(totals(3));
  });
});
