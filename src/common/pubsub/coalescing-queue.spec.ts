import { CoalescingQueue, EventsMissedError, SlowConsumerError } from './coalescing-queue';

interface Item {
  key: string;
  v: number;
}

const queue = (coalesceAbove: number, maxPending: number, onClose?: () => void) =>
  new CoalescingQueue<Item>({
    key: (i) => i.key,
    merge: (_old, newer) => newer,
    coalesceAbove,
    maxPending,
    onClose,
  });

async function drain(q: CoalescingQueue<Item>): Promise<string[]> {
  const out: string[] = [];
  while (q.size > 0) out.push((await q.next()).value!.key);
  return out;
}

describe('CoalescingQueue', () => {
  it('hands an item straight to a waiting reader', async () => {
    const q = queue(4, 8);
    const next = q.next();
    q.push({ key: 'a', v: 1 });
    expect(await next).toEqual({ value: { key: 'a', v: 1 }, done: false });
  });

  it('delivers every item to a consumer that keeps up', async () => {
    const q = queue(4, 8);
    for (const v of [1, 2, 3]) q.push({ key: 'a', v });
    expect([(await q.next()).value, (await q.next()).value, (await q.next()).value]).toEqual([
      { key: 'a', v: 1 },
      { key: 'a', v: 2 },
      { key: 'a', v: 3 },
    ]);
  });

  it('past coalesceAbove, keeps only the latest item per key, where the first was', async () => {
    const q = queue(3, 8);
    q.push({ key: 'a', v: 1 });
    q.push({ key: 'b', v: 1 });
    q.push({ key: 'a', v: 2 });
    q.push({ key: 'a', v: 3 }); // 4 > 3: compacts to a:3, b:1
    expect(q.size).toBe(2);
    expect((await q.next()).value).toEqual({ key: 'a', v: 3 });
    expect((await q.next()).value).toEqual({ key: 'b', v: 1 });
    expect(await drain(q)).toEqual([]);
  });

  it('takes one publish larger than maxPending whole, and drops a consumer that does not read it', async () => {
    // A NAS reboot: 10 sessions' STOPPED in one publish, maxPending 4.
    const burst = (tag: number) =>
      Array.from({ length: 10 }, (_, i) => ({ key: `s${tag}-${i}`, v: tag }));
    const reader = queue(2, 4);
    for (const item of burst(1)) reader.push(item, 10);
    expect(reader.closed).toBe(false);
    // Reading it shrinks the raise; a small publish meanwhile is fine.
    for (let i = 0; i < 8; i++) await reader.next();
    reader.push({ key: 'later', v: 1 });
    expect(reader.closed).toBe(false);
    expect(await drain(reader)).toEqual(['s1-8', 's1-9', 'later']);

    // A consumer that reads nothing is dropped at the next publish of new sessions.
    const stuck = queue(2, 4);
    for (const item of burst(1)) stuck.push(item, 10);
    expect(stuck.closed).toBe(false);
    for (const item of burst(2)) stuck.push(item, 10);
    expect(stuck.closed).toBe(true);
    await expect(stuck.next()).rejects.toBeInstanceOf(SlowConsumerError);
    // Without the publish's size, the same push drops even a consumer about to read.
    const unsized = queue(2, 4);
    for (const item of burst(1)) unsized.push(item);
    expect(unsized.closed).toBe(true);
  });

  it('drops a consumer that lags by more than maxPending keys, and frees its items', async () => {
    let closed = 0;
    const q = queue(2, 3, () => closed++);
    for (const key of ['a', 'b', 'c']) q.push({ key, v: 1 });
    expect(q.closed).toBe(false); // 3 keys after compaction: within maxPending
    // The next compaction comes when the queue has doubled (6), then 4 keys > 3: dropped.
    for (const key of ['a', 'b', 'c']) q.push({ key, v: 2 });
    expect(q.closed).toBe(false);
    q.push({ key: 'd', v: 1 });
    expect(q.closed).toBe(true);
    expect(q.size).toBe(0);
    expect(closed).toBe(1);
    await expect(q.next()).rejects.toBeInstanceOf(SlowConsumerError);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    q.push({ key: 'e', v: 1 }); // ignored once closed
    expect(q.size).toBe(0);
  });

  it('stays bounded under a flood of updates to the same keys', () => {
    const q = queue(100, 1000);
    for (let i = 0; i < 100_000; i++) q.push({ key: `k${i % 50}`, v: i });
    expect(q.closed).toBe(false);
    expect(q.size).toBeLessThanOrEqual(100);
  });

  it('end(err) gives err to a reader that waits or reads later, then the end', async () => {
    let closed = 0;
    const waiting = queue(3, 3, () => closed++);
    const next = waiting.next();
    waiting.end(new EventsMissedError('missed'));
    await expect(next).rejects.toBeInstanceOf(EventsMissedError);
    expect(await waiting.next()).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);

    const behind = queue(3, 3);
    behind.push({ key: 'a', v: 1 });
    behind.end(new EventsMissedError('missed'));
    expect(behind.size).toBe(0);
    await expect(behind.next()).rejects.toBeInstanceOf(EventsMissedError);
    expect(await behind.next()).toEqual({ value: undefined, done: true });
  });

  it('return() ends a waiting reader and calls onClose once', async () => {
    let closed = 0;
    const q = queue(3, 3, () => closed++);
    const next = q.next();
    await q.return();
    await q.return();
    expect(await next).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });
});
