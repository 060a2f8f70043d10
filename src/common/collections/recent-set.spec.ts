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

  it('with a maximum age, forgets members added longer ago than that', () => {
    let now = 0;
    const set = new RecentSet(10, 1000, () => now);
    set.add('a');
    now = 600;
    set.add('b');
    now = 1200;
    expect([set.has('a'), set.has('b')]).toEqual([false, true]);
    now = 1700;
    set.add('c'); // b goes too, as c comes
    expect([set.has('b'), set.has('c')]).toEqual([false, true]);
  });
});
