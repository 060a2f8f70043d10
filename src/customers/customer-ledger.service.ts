import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { BadUserInputError } from '../common/errors/app-error';
import { CurrencyService } from '../common/money/currency.service';
import { toMinor, type MoneyInput } from '../common/money/money';
import { pageSize } from '../common/pagination/connection';
import { optionalText } from '../common/validation/text';
import { TransactionsService } from '../database/transactions.service';
import { AuditService } from '../audit/audit.service';
import { customerTarget } from './customer-audit';
import { CustomerEntity } from './customer.entity';
import { lockCustomer } from './customer-lock';
import { LedgerEntryEntity } from './ledger-entry.entity';
import { LedgerKind } from './ledger-kind';
import { BillingIdempotency } from './idempotency/billing-idempotency.service';
import type { BillingCaller } from './ledger-actor';

/** rg_customers.balance_minor and rg_ledger amounts are BIGINT. */
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

export const MAX_NOTE_LENGTH = 500;

export interface LedgerPosting {
  /** Signed, in minor units. */
  amountMinor: bigint;
  kind: LedgerKind;
  note: string | null;
  actor: string;
  /** The input field a refusal names. */
  field: string;
}

/**
 * A customer's balance and its ledger. The balance changes only here, in the transaction
 * that inserts the ledger row, on the customer's locked row: the balance is always the sum
 * of the ledger, whatever runs at the same time.
 */
@Injectable()
export class CustomerLedgerService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: TransactionsService,
    private readonly currency: CurrencyService,
    private readonly audit: AuditService,
    private readonly idempotency: BillingIdempotency,
  ) {}

  /**
   * creditCustomer: records a payment received (amount > 0). With an idempotencyKey, once
   * (BillingIdempotency): a retry of the same payment answers with the customer and writes
   * nothing.
   */
  credit(
    id: string,
    amount: MoneyInput,
    note: string | null | undefined,
    caller: BillingCaller,
    idempotencyKey?: string | null,
  ): Promise<CustomerEntity> {
    const amountMinor = this.currency.parse('amount', amount);
    if (amountMinor <= 0n) {
      throw new BadUserInputError(
        'amount',
        'amount must be more than 0: a credit records a payment received',
        'AMOUNT_NOT_POSITIVE',
      );
    }
    const text = optionalText('note', note, MAX_NOTE_LENGTH, 'Note');
    const claim = this.idempotency.claim(idempotencyKey, caller, 'creditCustomer', id, {
      amountMinor: amountMinor.toString(),
      note: text,
    });
    return this.idempotency.run(claim, () =>
      this.tx.run(async (m) => {
        const customer = await lockCustomer(m, id);
        await this.idempotency.record(m, claim);
        const before = { balanceMinor: customer.balanceMinor };
        const entryId = await this.post(m, customer, {
          amountMinor,
          kind: LedgerKind.CREDIT,
          note: text,
          actor: caller.actor,
          field: 'amount',
        });
        await this.idempotency.wrote(m, claim, entryId);
        await this.audit.record(m, {
          target: customerTarget(customer),
          before,
          after: { balanceMinor: customer.balanceMinor, ledgerNote: text },
        });
        return customer;
      }),
    );
  }

  /**
   * Takes `priceMinor` from the balance of a customer locked in the caller's transaction
   * (renewCustomer). A short balance is refused with BAD_USER_INPUT (field "id", reason
   * INSUFFICIENT_BALANCE) unless `force`, which lets the balance go negative. A price of 0
   * takes nothing and writes no ledger row. Returns the ledger row's id (null for none).
   */
  async charge(
    m: EntityManager,
    customer: CustomerEntity,
    priceMinor: bigint,
    opts: { kind: LedgerKind; note: string; actor: string; force: boolean },
  ): Promise<number | null> {
    if (priceMinor === 0n) return null;
    const balance = toMinor(customer.balanceMinor);
    if (balance < priceMinor && !opts.force) {
      throw new BadUserInputError(
        'id',
        `The balance is ${this.currency.format(balance)} and the price is ${this.currency.format(priceMinor)}: credit the customer first, or pass force: true to let the balance go negative`,
        'INSUFFICIENT_BALANCE',
      );
    }
    return this.post(m, customer, {
      amountMinor: -priceMinor,
      kind: opts.kind,
      note: opts.note,
      actor: opts.actor,
      field: 'id',
    });
  }

  /**
   * The customer's ledger, newest first: `first` rows (0-500, as every list's page size; 0
   * answers an empty list).
   */
  async history(customerId: string, first: number): Promise<LedgerEntryEntity[]> {
    // An empty page needs no query.
    if (pageSize(first) === 0) return [];
    return this.dataSource.getRepository(LedgerEntryEntity).find({
      where: { customerId: Number(customerId) },
      order: { id: 'DESC' },
      take: first,
    });
  }

  /**
   * One ledger row and the balance it leaves, together; `customer` must be locked. Returns the
   * row's id.
   */
  private async post(
    m: EntityManager,
    customer: CustomerEntity,
    p: LedgerPosting,
  ): Promise<number> {
    const after = toMinor(customer.balanceMinor) + p.amountMinor;
    if (after > INT64_MAX || after < INT64_MIN) {
      throw new BadUserInputError(
        p.field,
        'The balance would be out of range',
        'BALANCE_OUT_OF_RANGE',
      );
    }
    customer.balanceMinor = after.toString();
    await m
      .getRepository(CustomerEntity)
      .update({ id: customer.id }, { balanceMinor: customer.balanceMinor });
    const inserted = await m.getRepository(LedgerEntryEntity).insert(
      m.create(LedgerEntryEntity, {
        customerId: customer.id,
        amountMinor: p.amountMinor.toString(),
        balanceAfterMinor: customer.balanceMinor,
        kind: p.kind,
        note: p.note,
        actor: p.actor,
      }),
    );
    return Number(inserted.identifiers[0].id);
  }
}
