import type { Logger } from '@nestjs/common';
import { claimAndAct, type RetryBackoff } from '../common/jobs/claimed-action';

/** Over-cap users acted on at once, at most (and throttles lifted, and plan rates sent). */
export const PARALLEL_ACTIONS = 8;

/**
 * claimAndAct for one user's cap action of `month` (RetryBackoff under the user and month): the
 * user's name when this call acted, else null (claimed elsewhere, or failed). Never throws.
 */
export async function actOnce(
  log: Logger,
  failures: RetryBackoff,
  username: string,
  month: string,
  step: Parameters<typeof claimAndAct>[4],
): Promise<string | null> {
  const outcome = await claimAndAct(log, failures, username, month, step);
  return outcome === 'done' ? username : null;
}

/** Drops the failures of other months; the items whose user may be tried now. */
export function retryable<T extends { username: string }>(
  failures: RetryBackoff,
  month: string,
  items: T[],
): T[] {
  failures.forgetOtherScopes(month);
  return items.filter((item) => failures.due(item.username, month));
}
