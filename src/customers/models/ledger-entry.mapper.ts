import type { CurrencyService } from '../../common/money/currency.service';
import type { LedgerEntryEntity } from '../ledger-entry.entity';
import { LedgerEntry } from './ledger-entry.model';

export function toLedgerEntry(e: LedgerEntryEntity, currency: CurrencyService): LedgerEntry {
  return {
    id: String(e.id),
    amount: currency.format(e.amountMinor),
    balanceAfter: currency.format(e.balanceAfterMinor),
    kind: e.kind,
    note: e.note,
    actor: e.actor,
    createdAt: e.createdAt,
  };
}
