import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';

/** The session fields the live-session e2e tests read from each event. */
export const EVENT_FIELDS = `type session {
  id uniqueId sessionId username nasIpAddress ipAddress macAddress
  startedAt updatedAt stoppedAt uploadBytes downloadBytes terminateCause
}`;

export interface SessionView {
  id: string;
  uniqueId: string;
  sessionId: string;
  username: string;
  nasIpAddress: string;
  ipAddress: string | null;
  macAddress: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  stoppedAt: string | null;
  /** BigInt: a JSON number up to 2^53-1, a string beyond. */
  uploadBytes: number | string;
  downloadBytes: number | string;
  terminateCause: string | null;
}

export interface Received {
  /** performance.now() when the graphql-ws client got it. */
  at: number;
  type: string;
  session: SessionView;
}

/** One subscription's events as they arrive, with the time each arrived. */
export class Recorder {
  readonly events: Received[] = [];
  readonly errors: unknown[] = [];
  private waiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    client: Client,
    args: string,
  ) {
    client.subscribe<{ sessionEvents: Omit<Received, 'at'> }>(
      { query: `subscription { sessionEvents${args} { ${EVENT_FIELDS} } }` },
      {
        next: (value) => {
          const at = performance.now();
          if (value.errors) this.errors.push(...value.errors);
          else if (value.data) this.events.push({ at, ...value.data.sessionEvents });
          for (const wake of this.waiters) wake();
        },
        error: (err) => this.errors.push(err),
        complete: () => undefined,
      },
    );
  }

  /** Resolves with the events once there are `count`, rejects after timeoutMs. */
  async until(count: number, timeoutMs: number): Promise<Received[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.events.length < count && this.errors.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `${this.name}: ${this.events.length} of ${count} events after ${timeoutMs} ms: ` +
            JSON.stringify(this.events.map((e) => [e.type, e.session.username])),
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
    if (this.errors.length > 0) {
      throw new Error(`${this.name}: subscription error ${JSON.stringify(this.errors)}`);
    }
    return this.events.slice(0, count);
  }
}
