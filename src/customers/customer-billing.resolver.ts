import { Args, ID, Int, Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { CurrencyService } from '../common/money/currency.service';
import type { MoneyInput } from '../common/money/money';
import { GraphQLMoney } from '../common/scalars/money.scalar';
import { CustomerLedgerService } from './customer-ledger.service';
import { IDEMPOTENCY_KEY_DESCRIPTION } from './idempotency/billing-idempotency.service';
import { billingCaller } from './ledger-actor';
import { toCustomer } from './models/customer.mapper';
import { Customer } from './models/customer.model';
import { toLedgerEntry } from './models/ledger-entry.mapper';
import { LedgerEntry } from './models/ledger-entry.model';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

/** The customer's money: balance, ledger, and payments (creditCustomer). */
@Resolver(() => Customer)
@RequireRole(Role.VIEWER)
export class CustomerBillingResolver {
  constructor(
    private readonly ledgerService: CustomerLedgerService,
    private readonly currency: CurrencyService,
  ) {}

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer, {
    description:
      'Records a payment: adds amount (> 0) to the balance, with a CREDIT ledger entry naming the caller. ' +
      'With an idempotencyKey (per API key: another key using the same one is another payment), a retry of the same payment (same key from the same API key, customer, amount and note, within 24 hours) answers with the customer as it is now and credits nothing more; the key with other arguments is CONFLICT (reason IDEMPOTENCY_KEY_REUSED).',
  })
  async creditCustomer(
    @Args('id', { type: () => ID }) id: string,
    @Args('amount', { type: () => GraphQLMoney }) amount: MoneyInput,
    @Args('note', { type: () => String, nullable: true }) note: string | null | undefined,
    @Args('idempotencyKey', {
      type: () => String,
      nullable: true,
      description: IDEMPOTENCY_KEY_DESCRIPTION,
    })
    idempotencyKey: string | null | undefined,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<Customer> {
    return toCustomer(
      await this.ledgerService.credit(id, amount, note, billingCaller(principal), idempotencyKey),
    );
  }

  @ResolveField(() => GraphQLMoney, {
    description: 'Always the sum of the ledger. Negative after a forced renewal.',
  })
  balance(@Parent() c: Customer): string {
    return this.currency.format(c.balanceMinor);
  }

  @ResolveField(() => [LedgerEntry], {
    description: 'Balance history, newest first (first: 0-500; 0 answers an empty list).',
  })
  async ledger(
    @Parent() c: Customer,
    @Args('first', { type: () => Int, nullable: true, defaultValue: 20 }) first: number | null,
  ): Promise<LedgerEntry[]> {
    const rows = await this.ledgerService.history(c.id, first ?? 20);
    return rows.map((e) => toLedgerEntry(e, this.currency));
  }
}
