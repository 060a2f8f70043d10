/** Why a customer's balance changed: stored in rg_ledger.kind, shown as LedgerEntryKind. */
export enum LedgerKind {
  /** A payment received (creditCustomer). */
  CREDIT = 'credit',
  /** The profile's price, deducted by renewCustomer. */
  RENEWAL = 'renewal',
  /** A correction by hand. */
  ADJUSTMENT = 'adjustment',
}
