import type { Principal } from '../auth/principal';

/** Who a ledger row names when no authenticated caller is known (a job, a script). */
export const DEFAULT_ACTOR = 'admin';

/** The ledger's actor for a caller: the key or token's name, never its secret. */
export function ledgerActor(principal: Principal | null | undefined): string {
  return (principal?.name || DEFAULT_ACTOR).slice(0, 128); // rg_ledger.actor is varchar(128)
}

/** Who asks for a billing change (creditCustomer, renewCustomer). */
export interface BillingCaller {
  /** What the ledger row names: ledgerActor. */
  actor: string;
  /**
   * Whose idempotencyKeys the request's is (BillingIdempotency): `api-key:<id>` for an API key
   * (its id, which revoking keeps and no new key reuses: a key created anew is a new caller),
   * `admin-token` for ADMIN_TOKEN (the same caller when the token is changed), `internal` with
   * no authenticated caller (a job, a script). Never contains a line break.
   */
  idempotencyScope: string;
}

export function billingCaller(principal: Principal | null | undefined): BillingCaller {
  return { actor: ledgerActor(principal), idempotencyScope: idempotencyScope(principal) };
}

function idempotencyScope(principal: Principal | null | undefined): string {
  if (!principal) return 'internal';
  switch (principal.kind) {
    case 'api-key':
      return `api-key:${principal.keyId}`;
    case 'admin-token':
      return 'admin-token';
  }
}
