import { RecentSet } from './recent-set';

describe('RecentSet', () => {
  it('keeps the latest members, a re-added one counting as new', () => {
    const set = new RecentSet(2);
    set.add('a');
    set.add('b');
    set.add('a'); // now the latest
    set.add('c'); // b, the oldest, goes
    expect(['a', 'b', 'c'].map((k) => set.has(k))).toEqual([true, false, true]);
    set.delete('a');
    expect(set.has('a')).toBe(false);
  });
});
