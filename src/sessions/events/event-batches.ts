import { CoalescingQueue } from '../../common/pubsub/coalescing-queue';
import { SessionEventType, type SessionEvent } from '../models/session-event.model';

/** Events in one batch, at most; more go in the next batch, at once. */
export const MAX_BATCH_EVENTS = 2_000;
/** Batches waiting for one subscriber before they merge into one (latest state per session). */
export const MERGE_BATCHES_ABOVE = 20;

/** A waiting STARTED stays STARTED when an update follows; otherwise the newer type wins. */
export function mergeEvents(waiting: SessionEvent, newer: SessionEvent): SessionEvent {
  const type =
    waiting.type === SessionEventType.STARTED && newer.type === SessionEventType.UPDATED
      ? SessionEventType.STARTED
      : newer.type;
  return { type, session: newer.session };
}

/** The latest state of each session, in the order each first appeared. */
export function coalesceBySession(events: readonly SessionEvent[]): SessionEvent[] {
  const bySession = new Map<string, SessionEvent>();
  for (const e of events) {
    const before = bySession.get(e.session.id);
    bySession.set(e.session.id, before ? mergeEvents(before, e) : e);
  }
  return [...bySession.values()];
}

export interface BatchMember {
  queue: CoalescingQueue<SessionEvent[]>;
  /** performance.now() when it subscribed. */
  since: number;
}

/**
 * The subscribers of one filter and one maxLatencyMs share a batcher: each batch is one array,
 * made once and pushed to all of them, so the server executes its selection once per
 * distinct selection rather than once per subscriber (see shared-subscribe.ts). A batch goes
 * out at most maxLatencyMs after its first event, holding each session once (its latest state).
 */
export class EventBatcher {
  readonly members = new Set<BatchMember>();
  private buffer: SessionEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly maxLatencyMs: number) {}

  push(event: SessionEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= MAX_BATCH_EVENTS) {
      this.flush();
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.maxLatencyMs);
      this.timer.unref();
    }
  }

  /** Sends what is buffered to every member now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return;
    const batch = coalesceBySession(this.buffer);
    this.buffer = [];
    for (const m of this.members) m.queue.push(batch);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.buffer = [];
  }
}

/**
 * A subscriber's queue of batches: past MERGE_BATCHES_ABOVE waiting, they merge into one. The
 * empty batch that says the subscription is live (announceLive) never merges: it stays first.
 */
export function batchQueue(onClose: () => void): CoalescingQueue<SessionEvent[]> {
  return new CoalescingQueue<SessionEvent[]>({
    key: (batch) => (batch.length === 0 ? 'live' : 'batches'),
    merge: (waiting, newer) => coalesceBySession([...waiting, ...newer]),
    coalesceAbove: MERGE_BATCHES_ABOVE,
    // One merged batch holds each session once: bounded by the sessions there are.
    maxPending: MERGE_BATCHES_ABOVE,
    onClose,
  });
}
