import { KeyedQueue } from './keyed-queue';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedQueue', () => {
  it('runs the work of one key in order, a slow first before a fast second', async () => {
    const q = new KeyedQueue();
    const done: string[] = [];
    await Promise.all([
      q.run('a', async () => {
        await tick(30);
        done.push('a1');
      }),
      q.run('a', () => Promise.resolve(done.push('a2'))),
      q.run('b', () => Promise.resolve(done.push('b1'))),
    ]);
    expect(done).toEqual(['b1', 'a1', 'a2']);
    await tick(0);
    expect(q.size).toBe(0);
  });

  it('goes on after a failure, which only its own caller sees', async () => {
    const q = new KeyedQueue();
    const failed = q.run('a', () => Promise.reject(new Error('boom')));
    const next = q.run('a', () => Promise.resolve(2));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(2);
  });
});
