import { intervalIterator } from './heartbeat';

describe('intervalIterator', () => {
  it('yields at once, then every interval, and stops at once on return()', async () => {
    let n = 0;
    const it = intervalIterator(20, () => ++n);
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    const pending = it.next();
    await it.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(n).toBe(2);
  });
});
