import { chunksOf, IN_LIST_MAX, inChunks, placeholders } from './in-list';

describe('chunksOf', () => {
  it('cuts values into consecutive slices of at most the size', () => {
    expect(chunksOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunksOf([1, 2], 2)).toEqual([[1, 2]]);
    expect(chunksOf([], 2)).toEqual([]);
  });

  it('keeps a list that fits whole: one statement for a normal batch', () => {
    const batch = Array.from({ length: 500 }, (_, i) => i);
    expect(chunksOf(batch)).toEqual([batch]);
    expect(
      chunksOf(Array.from({ length: IN_LIST_MAX + 1 }, (_, i) => i)).map((c) => c.length),
    ).toEqual([IN_LIST_MAX, 1]);
  });

  it('refuses a size below 1', () => {
    expect(() => chunksOf([1], 0)).toThrow('at least 1');
  });
});

describe('inChunks', () => {
  it('runs each slice in turn and concatenates the results in order', async () => {
    const calls: number[][] = [];
    const out = await inChunks(
      [1, 2, 3, 4, 5],
      async (part) => {
        calls.push(part);
        await new Promise((r) => setTimeout(r, part.length === 1 ? 0 : 5));
        return part.map((n) => n * 10);
      },
      2,
    );
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
    expect(out).toEqual([10, 20, 30, 40, 50]);
  });

  it('does not call run for no values', async () => {
    const run = jest.fn(() => Promise.resolve([1]));
    expect(await inChunks([], run)).toEqual([]);
    expect(run).not.toHaveBeenCalled();
  });
});

describe('placeholders', () => {
  it("gives one '?' per value, comma-separated, and nothing for none", () => {
    expect(placeholders(3)).toBe('?, ?, ?');
    expect(placeholders(1)).toBe('?');
    expect(placeholders(0)).toBe('');
  });
});
