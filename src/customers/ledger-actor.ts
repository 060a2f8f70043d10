import type { Principal } from '../auth/principal';

/** Who a ledger row names when no authenticated caller is known (a job, a script). */
export const DEFAULT_ACTOR = 'admin';

/** The ledger's actor for a caller: the key or token's name, never its secret. */
export function ledgerActor(principal: Principal | null | undefined): string {
  return (principal?.name || DEFAULT_ACTOR).slice(0, 128); // rg_ledger.actor is varchar(128)
}
