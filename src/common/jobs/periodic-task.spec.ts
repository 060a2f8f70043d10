import type { Logger } from '@nestjs/common';
import type { JobLeases } from './job-leases.service';
import { JOB_HEARTBEAT_MS, JOB_LEASE_TTL_MS } from './held-lease';
import { RELEASED } from './job-leases.service';
import { PeriodicTask, type PeriodicTaskSpec } from './periodic-task';

/** A run the test finishes when it says. */
function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function task(spec: Partial<PeriodicTaskSpec<string>> = {}) {
  const warn = jest.fn();
  const log = jest.fn();
  const run = jest.fn(() => Promise.resolve('ran'));
  const t = new PeriodicTask<string>({
    log: { warn, log } as unknown as Logger,
    everySeconds: 10,
    run,
    failure: 'the job failed',
    ...spec,
  });
  return { t, warn, log, run: (spec.run as jest.Mock | undefined) ?? run };
}

/**
 * rg_job_leases in memory, by Date.now (which fake timers move): each instance gets its own
 * JobLeases on it, whose database can be made to stop answering (down).
 */
class LeaseTable {
  row: { holder: string; expiresAt: number } | null = null;
  readonly down = new Set<string>();
  /** How long after the database renewed it an instance hears of it (a slow answer, a pause). */
  readonly late = new Map<string, number>();

  as(holder: string) {
    const answer = () => {
      if (this.down.has(holder)) return Promise.reject(new Error('connection lost'));
      return Promise.resolve();
    };
    const leases = {
      holder,
      acquire: jest.fn(async (_name: string, ttlMs: number) => {
        await answer();
        const now = Date.now();
        if (this.row && this.row.expiresAt >= now && this.row.holder !== holder) return false;
        this.row = { holder, expiresAt: now + ttlMs };
        const late = this.late.get(holder);
        if (late) await new Promise((resolve) => setTimeout(resolve, late));
        return true;
      }),
      lease: jest.fn(async () => {
        await answer();
        const row = this.row;
        return row && { holder: row.holder, unheldSeconds: (Date.now() - row.expiresAt) / 1000 };
      }),
      release: jest.fn(async () => {
        await answer();
        if (this.row?.holder === holder) this.row = { holder: RELEASED, expiresAt: Date.now() - 1 };
      }),
    };
    return { leases: leases as unknown as JobLeases, calls: leases };
  }
}

/** A task whose runs last until the test settles `slow`. */
function slowTask(spec: Partial<PeriodicTaskSpec<string>> = {}) {
  const slow = deferred();
  const run = jest.fn(() => slow.promise.then(() => 'ran'));
  return { slow, ...task({ ...spec, run }) };
}

/** A job every 60 s on two instances sharing `table`: a starts first, and takes the lease. */
async function aThenB(table: LeaseTable) {
  const a = task({ everySeconds: 60, lease: { leases: table.as('a').leases, name: 'job' } });
  const b = task({ everySeconds: 60, lease: { leases: table.as('b').leases, name: 'job' } });
  a.t.start();
  await jest.advanceTimersByTimeAsync(0);
  b.t.start();
  return { a, b };
}

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs once an interval', async () => {
    const { t, run } = task();
    t.start();
    await jest.advanceTimersByTimeAsync(9_999);
    expect(run).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(20_001);
    expect(run).toHaveBeenCalledTimes(3);
    await t.stop();
  });

  it('skips the ticks that come while a run is in progress: runs never overlap', async () => {
    const { t, run, slow } = slowTask();
    t.start();
    await jest.advanceTimersByTimeAsync(45_000); // ticks at 10, 20, 30 and 40 s
    expect(run).toHaveBeenCalledTimes(1);
    slow.resolve();
    await jest.advanceTimersByTimeAsync(10_000); // the tick at 50 s
    expect(run).toHaveBeenCalledTimes(2);
    await t.stop();
  });

  it('logs a failed run at warn, and runs again at the next tick', async () => {
    const run = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(new Error('database gone'))
      .mockResolvedValue('ran');
    const { t, warn } = task({ run });
    t.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(warn.mock.calls).toEqual([['the job failed: database gone']]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledTimes(1);
    await t.stop();
  });

  it('on stop, waits for the run in progress, and runs no more', async () => {
    const { t, run, slow } = slowTask();
    t.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    let stopped = false;
    const stopping = t.stop().then(() => {
      stopped = true;
    });
    await jest.advanceTimersByTimeAsync(30_000);
    expect(stopped).toBe(false); // the run is still going
    slow.resolve();
    await stopping;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('on stop, waits for a run that fails too, and resolves (the failure was logged)', async () => {
    const { t, warn, slow } = slowTask();
    t.start();
    await jest.advanceTimersByTimeAsync(10_000);
    const stopping = t.stop();
    slow.reject(new Error('lost'));
    await expect(stopping).resolves.toBeUndefined();
    expect(warn.mock.calls).toEqual([['the job failed: lost']]);
  });

  it('is off at 0: no timer, no run', async () => {
    const leases = new LeaseTable().as('me');
    const { t, run } = task({
      everySeconds: 0,
      firstAfterSeconds: 5,
      lease: { leases: leases.leases, name: 'job' },
    });
    t.start();
    expect(jest.getTimerCount()).toBe(0);
    expect(leases.calls.acquire).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(run).not.toHaveBeenCalled();
    await t.stop();
  });

  it('runs first after firstAfterSeconds, then once an interval, and stop clears both', async () => {
    const { t, run } = task({ everySeconds: 100, firstAfterSeconds: 5 });
    t.start();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(run).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(95_000);
    expect(run).toHaveBeenCalledTimes(2);
    await t.stop();
    expect(jest.getTimerCount()).toBe(0);

    const again = task({ everySeconds: 100, firstAfterSeconds: 5 });
    again.t.start();
    await again.t.stop(); // before the first run
    await jest.advanceTimersByTimeAsync(200_000);
    expect(again.run).not.toHaveBeenCalled();
  });

  it('runs only while this instance holds the lease, checked right before each run', async () => {
    const table = new LeaseTable();
    const other = table.as('other');
    await other.leases.acquire('job', 60_000);
    const mine = table.as('me');
    const { t, run } = task({ lease: { leases: mine.leases, name: 'job' } });
    t.start();
    await jest.advanceTimersByTimeAsync(50_000); // five ticks, the other's lease live
    expect(run).not.toHaveBeenCalled();
    expect(t.holding).toBe(false);
    await jest.advanceTimersByTimeAsync(10_000 + JOB_HEARTBEAT_MS); // it ran out at 60 s
    expect(t.holding).toBe(true); // taken at the next beat
    expect(run).toHaveBeenCalledTimes(1); // at once: the other gave nothing up (it died)
    await jest.advanceTimersByTimeAsync(8_000);
    expect(run).toHaveBeenCalledTimes(2); // the tick at 70 s
    await t.stop();
  });

  it('keeps the lease on a heartbeat whatever the interval, also through a long run, and gives it up on stop', async () => {
    const table = new LeaseTable();
    const mine = table.as('me');
    const {
      t: leased,
      run,
      slow,
    } = slowTask({
      everySeconds: 3600,
      lease: { leases: mine.leases, name: 'job' },
    });
    leased.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(table.row?.holder).toBe('me'); // a beat at start
    const rival = table.as('rival');
    for (let s = 0; s < 3600 + 600; s += 1) {
      await jest.advanceTimersByTimeAsync(1000);
      expect(await rival.leases.acquire('job', JOB_LEASE_TTL_MS)).toBe(false);
    }
    expect(run).toHaveBeenCalledTimes(1); // one run an hour, still going
    expect(mine.calls.acquire.mock.calls.length).toBeGreaterThanOrEqual(4200 / 2);
    expect(mine.calls.acquire.mock.calls.every(([, ttl]) => ttl === JOB_LEASE_TTL_MS)).toBe(true);
    const stopping = leased.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(table.row?.holder).toBe('me'); // kept while the run finishes
    slow.resolve();
    await stopping;
    expect(table.row?.holder).toBe(RELEASED);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('moves to another instance within 10 s of its holder dying, which runs at once, then at its interval', async () => {
    const table = new LeaseTable();
    const a = table.as('a');
    const b = table.as('b');
    const warnA = jest.fn();
    const runA = jest.fn(() => Promise.resolve('a'));
    const runB = jest.fn(() => Promise.resolve('b'));
    const spec = { everySeconds: 60, failure: 'the job failed' };
    const onTaken = jest.fn();
    const ta = new PeriodicTask({
      ...spec,
      log: { warn: warnA, log: jest.fn() } as unknown as Logger,
      lease: { leases: a.leases, name: 'job' },
      run: runA,
    });
    const tb = new PeriodicTask({
      ...spec,
      log: { warn: jest.fn(), log: jest.fn() } as unknown as Logger,
      lease: { leases: b.leases, name: 'job', onTaken },
      run: runB,
    });
    ta.start();
    await jest.advanceTimersByTimeAsync(0);
    tb.start();
    await jest.advanceTimersByTimeAsync(61_000);
    expect([runA.mock.calls.length, runB.mock.calls.length]).toEqual([1, 0]);

    table.down.add('a'); // a's connection is gone: it renews no more, releases nothing
    const died = Date.now();
    while (table.row?.holder !== 'b') await jest.advanceTimersByTimeAsync(100);
    expect(Date.now() - died).toBeLessThanOrEqual(JOB_LEASE_TTL_MS + JOB_HEARTBEAT_MS);
    expect(Date.now() - died).toBeLessThan(10_000);
    await jest.advanceTimersByTimeAsync(0);
    expect(runB).toHaveBeenCalledTimes(1); // at once
    expect(onTaken).toHaveBeenCalledTimes(1);
    expect(onTaken.mock.calls[0][0]).toBeLessThanOrEqual(JOB_HEARTBEAT_MS / 1000);

    await jest.advanceTimersByTimeAsync(600_000);
    expect(runA).toHaveBeenCalledTimes(1); // a ran nothing without the lease
    expect(runB.mock.calls.length).toBeGreaterThanOrEqual(10);
    expect(runB.mock.calls.length).toBeLessThanOrEqual(11);
    // a's beats failed every 2 s for 10 minutes: logged once.
    expect(warnA).toHaveBeenCalledTimes(1);
    expect(warnA.mock.calls[0][0]).toMatch(/cannot renew or take the job lease.*connection lost/);
    await ta.stop();
    await tb.stop();
  });

  it('after a clean stop, another instance takes the lease at its next beat, and runs at its own tick', async () => {
    const table = new LeaseTable();
    const { a, b } = await aThenB(table);
    await jest.advanceTimersByTimeAsync(30_000);
    await a.t.stop();
    await jest.advanceTimersByTimeAsync(JOB_HEARTBEAT_MS);
    expect(table.row?.holder).toBe('b');
    expect(b.run).not.toHaveBeenCalled(); // a finished its runs: b waits for its tick
    await jest.advanceTimersByTimeAsync(60_000);
    expect(b.run).toHaveBeenCalledTimes(1);
    await b.t.stop();
  });

  it('logs a lease that cannot be renewed once per outage, does not run meanwhile, and runs again after', async () => {
    const table = new LeaseTable();
    const { leases } = table.as('me');
    const { t, run, warn, log } = task({ lease: { leases, name: 'job' } });
    t.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    table.down.add('me');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(t.holding).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    table.down.delete('me');
    await jest.advanceTimersByTimeAsync(JOB_HEARTBEAT_MS);
    expect(t.holding).toBe(true);
    expect(log).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(2);
    table.down.add('me'); // a second outage: logged again, once
    await jest.advanceTimersByTimeAsync(20_000);
    expect(warn).toHaveBeenCalledTimes(2);
    await t.stop();
  });

  it('does not run on a renewal heard of after the lease it renewed ran out (a long pause): another instance may run by then', async () => {
    const table = new LeaseTable();
    const { a, b } = await aThenB(table);
    await jest.advanceTimersByTimeAsync(1_000);
    // a's next beat renews the lease at once, but a hears of it only 10 s later.
    table.late.set('a', 10_000);
    await jest.advanceTimersByTimeAsync(JOB_HEARTBEAT_MS - 1_000);
    const running = a.t.runOnce(); // shares the beat under way
    await jest.advanceTimersByTimeAsync(JOB_LEASE_TTL_MS + JOB_HEARTBEAT_MS);
    expect(table.row?.holder).toBe('b'); // the renewal ran out: b took the lease
    expect(b.run).toHaveBeenCalledTimes(1); // and ran at once
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await running).toBeNull();
    expect(a.run).not.toHaveBeenCalled();
    expect(a.t.holding).toBe(false);
    table.late.clear();
    await a.t.stop();
    expect(table.row?.holder).toBe('b'); // a gave up nothing of b's
    await b.t.stop();
  });

  it("runOnce: the run's result with the lease, null without it", async () => {
    const table = new LeaseTable();
    const { t, run } = task({ lease: { leases: table.as('me').leases, name: 'job' } });
    expect(await t.runOnce()).toBe('ran');
    await table.as('other').leases.release('job'); // not its to give up
    table.row = { holder: 'other', expiresAt: Date.now() + 60_000 };
    expect(await t.runOnce()).toBeNull();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('sets unref’d timers: a pending run does not keep the process alive', async () => {
    const timeouts = jest.spyOn(global, 'setTimeout');
    const intervals = jest.spyOn(global, 'setInterval');
    const leases = new LeaseTable().as('me').leases;
    const { t } = task({ firstAfterSeconds: 5, lease: { leases, name: 'job' } });
    t.start();
    const timers = [...timeouts.mock.results, ...intervals.mock.results].map(
      (r) => r.value as NodeJS.Timeout,
    );
    expect(timers).toHaveLength(3); // the first run, the interval, the heartbeat
    for (const timer of timers) expect(timer.hasRef()).toBe(false);
    await t.stop();
  });
});
