import type { Logger } from '@nestjs/common';

/**
 * After a second failed action in a row, the next try waits this long, doubling with each
 * failure up to RETRY_MAX_MS: a NAS that never answers CoA (MikroTik's is off by default) is
 * not sent a request, and waited for, at every update or every run for every customer on it.
 */
export const RETRY_AFTER_MS = 5 * 60_000;
export const RETRY_MAX_MS = 60 * 60_000;

/**
 * How often in a row an action failed, per key (a user, a customer), and when it may be tried
 * again: the first failure at once (the next update, the next run), then after RETRY_AFTER_MS,
 * twice that, ... up to RETRY_MAX_MS. A failure is noted under a scope (a month, an expiry):
 * one of another scope counts for nothing. Times are monotonic (performance.now()), so a wall
 * clock stepped back does not hold a retry.
 */
export class RetryBackoff {
  private readonly failures = new Map<
    string,
    { scope: string; count: number; notBefore: number }
  >();

  /** Whether `key` may be tried now in `scope`. */
  due(key: string, scope: string): boolean {
    const f = this.failures.get(key);
    return f === undefined || f.scope !== scope || f.notBefore <= performance.now();
  }

  /** A success clears the key's failures; a failure counts. */
  note(key: string, scope: string, done: boolean): void {
    if (done) {
      this.failures.delete(key);
      return;
    }
    const before = this.failures.get(key);
    const count = (before?.scope === scope ? before.count : 0) + 1;
    const wait = count < 2 ? 0 : Math.min(RETRY_AFTER_MS * 2 ** (count - 2), RETRY_MAX_MS);
    this.failures.set(key, { scope, count, notBefore: performance.now() + wait });
  }

  /** Forgets the failures noted in another scope than `scope` (a month that is over). */
  forgetOtherScopes(scope: string): void {
    for (const [key, f] of this.failures) if (f.scope !== scope) this.failures.delete(key);
  }

  /** Forgets the failures of every key but these (the ones still to act on). */
  forgetAllBut(keys: ReadonlySet<string>): void {
    for (const key of this.failures.keys()) if (!keys.has(key)) this.failures.delete(key);
  }
}

/** What became of one claimed action. */
export type ClaimedOutcome =
  /** Claimed and taken: it got through, and the claim is kept. */
  | 'done'
  /** It did not get through (or the claim could not be read or given back): tried again. */
  | 'failed'
  /** Someone else holds the claim (done already, or in flight): nothing was tried. */
  | 'taken';

/**
 * Claims an action, takes it, and gives the claim back when it did not get through (act false
 * or throwing), so a later try acts again: a failed disconnect must not leave a customer online
 * for good. The outcome goes into `backoff` under (key, scope). Never throws: a failure is
 * logged.
 */
export async function claimAndAct(
  log: Logger,
  backoff: RetryBackoff,
  key: string,
  scope: string,
  step: {
    what: string;
    claim: () => Promise<boolean>;
    act: () => Promise<boolean>;
    unclaim: () => Promise<unknown>;
  },
): Promise<ClaimedOutcome> {
  let done = false;
  try {
    if (!(await step.claim())) return 'taken';
    try {
      done = await step.act();
    } catch (err) {
      log.warn(`cannot ${step.what}: ${(err as Error).message}`);
    }
    if (!done) await step.unclaim();
  } catch (err) {
    log.warn(`the claim to ${step.what} failed: ${(err as Error).message}`);
    return 'failed';
  }
  backoff.note(key, scope, done);
  return done ? 'done' : 'failed';
}
