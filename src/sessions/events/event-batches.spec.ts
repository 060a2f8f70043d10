import { SessionEventType, type SessionEvent } from '../models/session-event.model';
import { batchQueue, coalesceBySession, EventBatcher, MERGE_BATCHES_ABOVE } from './event-batches';

const ev = (id: string, type: SessionEventType, up: number): SessionEvent =>
  ({ type, session: { id, uploadBytes: String(up) } }) as unknown as SessionEvent;
const show = (events: readonly SessionEvent[]) =>
  events.map((e) => `${e.session.id}:${e.type}:${e.session.uploadBytes}`);

describe('session event batches', () => {
  it('keeps each session once, in its latest state, where it first appeared', () => {
    expect(
      show(
        coalesceBySession([
          ev('1', SessionEventType.STARTED, 0),
          ev('2', SessionEventType.UPDATED, 5),
          ev('1', SessionEventType.UPDATED, 10),
          ev('2', SessionEventType.STOPPED, 7),
        ]),
      ),
    ).toEqual(['1:STARTED:10', '2:STOPPED:7']);
  });

  it('sends one array to every member at most maxLatencyMs after its first event', async () => {
    jest.useFakeTimers();
    try {
      const batcher = new EventBatcher(100);
      const a = batchQueue(() => undefined);
      const b = batchQueue(() => undefined);
      batcher.members.add({ queue: a, since: 0 });
      batcher.members.add({ queue: b, since: 0 });
      batcher.push(ev('1', SessionEventType.STARTED, 0));
      jest.advanceTimersByTime(60);
      batcher.push(ev('1', SessionEventType.UPDATED, 3));
      expect(a.size).toBe(0);
      jest.advanceTimersByTime(40);
      const [x, y] = [(await a.next()).value, (await b.next()).value];
      expect(x).toBe(y); // the same array: built once
      expect(show(x)).toEqual(['1:STARTED:3']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('merges the batches a slow member has not read, so its memory stays bounded', async () => {
    const q = batchQueue(() => undefined);
    for (let i = 0; i <= MERGE_BATCHES_ABOVE * 5; i++) {
      q.push([ev(String(i % 7), SessionEventType.UPDATED, i)]);
    }
    expect(q.size).toBeLessThanOrEqual(MERGE_BATCHES_ABOVE);
    const all: SessionEvent[] = [];
    while (q.size > 0) all.push(...(await q.next()).value);
    // Every session's latest state is there.
    const latest = new Map(all.map((e) => [e.session.id, e.session.uploadBytes]));
    expect(latest.size).toBe(7);
    expect(latest.get(String((MERGE_BATCHES_ABOVE * 5) % 7))).toBe(String(MERGE_BATCHES_ABOVE * 5));
  });

  it('never merges the empty batch that announces a subscription: it stays first', async () => {
    const q = batchQueue(() => undefined);
    q.push([]);
    for (let i = 0; i <= MERGE_BATCHES_ABOVE * 3; i++) {
      q.push([ev(String(i % 3), SessionEventType.UPDATED, i)]);
    }
    expect(q.size).toBeLessThanOrEqual(MERGE_BATCHES_ABOVE);
    expect((await q.next()).value).toEqual([]);
    expect((await q.next()).value.length).toBeGreaterThan(0);
  });
});
