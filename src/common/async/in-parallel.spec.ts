import { inParallel } from './in-parallel';

describe('inParallel', () => {
  it('runs at most `limit` at a time and gives the results in item order', async () => {
    let running = 0;
    let most = 0;
    const results = await inParallel([30, 5, 20, 1, 10, 15], 3, async (ms) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 40, 2, 20, 30]);
    expect(most).toBe(3);
  });

  it('takes no items, and fails with the first failure', async () => {
    expect(await inParallel([], 4, () => Promise.resolve(1))).toEqual([]);
    await expect(
      inParallel([1, 2], 2, (n) =>
        n === 2 ? Promise.reject(new Error('two')) : Promise.resolve(n),
      ),
    ).rejects.toThrow('two');
  });
});
