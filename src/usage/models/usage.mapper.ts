import type { MonthUsage } from '../usage.service';
import { DataCapAction, Usage } from './usage.model';

/** rg_cap_actions.action as the API shows it. */
const CAP_ACTIONS: Record<string, DataCapAction> = {
  fup: DataCapAction.THROTTLED,
  disconnect: DataCapAction.DISCONNECTED,
};

/**
 * A month's usage as the API shows it: zero when nothing was used (`usage` null), the total
 * of both directions, and `limitBytes`, the profile's data limit (null: unlimited).
 */
export function toUsage(month: string, usage: MonthUsage | null, limitBytes: string | null): Usage {
  const acted = usage?.capAction ?? null;
  const action = acted ? (CAP_ACTIONS[acted.action] ?? null) : null;
  const up = usage?.uploadBytes ?? 0n;
  const down = usage?.downloadBytes ?? 0n;
  return {
    month,
    uploadBytes: up.toString(),
    downloadBytes: down.toString(),
    totalBytes: (up + down).toString(),
    limitBytes,
    capAction: action,
    capActedAt: action ? acted!.actedAt : null,
  };
}
