import { turnsDuring } from '../../../test/support/event-loop-turns';
import { EventLoopSlices, yieldToEventLoop } from './event-loop-slices';

describe('EventLoopSlices', () => {
  it('lets the event loop go round once its slice is used up', async () => {
    const slices = new EventLoopSlices(0);
    const { turns } = await turnsDuring(async () => {
      for (let i = 0; i < 20; i++) await slices.pause();
    });
    expect(turns).toBeGreaterThanOrEqual(19);
  });

  it('does not yield before its slice is used up', async () => {
    const slices = new EventLoopSlices(60_000);
    const { turns } = await turnsDuring(async () => {
      for (let i = 0; i < 1000; i++) await slices.pause();
    });
    expect(turns).toBe(0);
  });

  it('yieldToEventLoop lets a timer that is due run', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    const until = Date.now() + 5;
    while (Date.now() < until); // the timer is due
    for (let i = 0; i < 3 && !fired; i++) await yieldToEventLoop();
    expect(fired).toBe(true);
  });
});
