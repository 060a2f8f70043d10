import type { Logger } from '@nestjs/common';
import type { JobLeases } from './job-leases.service';
import { leaseTtlMs, PeriodicTask, type PeriodicTaskSpec } from './periodic-task';

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
  const run = jest.fn(() => Promise.resolve('ran'));
  const t = new PeriodicTask<string>({
    log: { warn } as unknown as Logger,
    everySeconds: 10,
    run,
    failure: 'the job failed',
    ...spec,
  });
  return { t, warn, run: (spec.run as jest.Mock | undefined) ?? run };
}

/** A task whose runs last until the test settles `slow`. */
function slowTask() {
  const slow = deferred();
  const run = jest.fn(() => slow.promise.then(() => 'ran'));
  return { slow, ...task({ run }) };
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
    const { t, run } = task({ everySeconds: 0, firstAfterSeconds: 5 });
    t.start();
    expect(jest.getTimerCount()).toBe(0);
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

  it('takes the lease before each run, and does not run without it', async () => {
    const held = [false, true, false];
    const acquire = jest.fn(() => Promise.resolve(held.shift() ?? false));
    const leases = { acquire } as unknown as JobLeases;
    const { t, run, warn } = task({ lease: { leases, name: 'job', ttlMs: 20_000 } });
    t.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(acquire.mock.calls).toEqual([
      ['job', 20_000],
      ['job', 20_000],
      ['job', 20_000],
    ]);
    expect(warn).not.toHaveBeenCalled();
    await t.stop();
  });

  it('logs a lease that cannot be taken as a failed run, without running', async () => {
    const acquire = jest.fn(() => Promise.reject(new Error('no database')));
    const leases = { acquire } as unknown as JobLeases;
    const { t, run, warn } = task({ lease: { leases, name: 'job', ttlMs: 20_000 } });
    t.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).not.toHaveBeenCalled();
    expect(warn.mock.calls).toEqual([['the job failed: no database']]);
    await t.stop();
  });

  it("runOnce: the run's result with the lease, null without it", async () => {
    const held = [true, false];
    const leases = {
      acquire: jest.fn(() => Promise.resolve(held.shift())),
    } as unknown as JobLeases;
    const { t, run } = task({ lease: { leases, name: 'job', ttlMs: 20_000 } });
    expect(await t.runOnce()).toBe('ran');
    expect(await t.runOnce()).toBeNull();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('sets unref’d timers: a pending run does not keep the process alive', async () => {
    const timeouts = jest.spyOn(global, 'setTimeout');
    const intervals = jest.spyOn(global, 'setInterval');
    const { t } = task({ firstAfterSeconds: 5 });
    t.start();
    const timers = [...timeouts.mock.results, ...intervals.mock.results].map(
      (r) => r.value as NodeJS.Timeout,
    );
    expect(timers).toHaveLength(2);
    for (const timer of timers) expect(timer.hasRef()).toBe(false);
    await t.stop();
  });

  it('leases for two intervals, and 10 s at the least', () => {
    expect(leaseTtlMs(60)).toBe(120_000);
    expect(leaseTtlMs(1)).toBe(10_000);
  });
});
