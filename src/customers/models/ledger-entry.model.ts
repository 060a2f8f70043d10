import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLMoney } from '../../common/scalars/money.scalar';
import { LedgerKind } from '../ledger-kind';

registerEnumType(LedgerKind, {
  name: 'LedgerEntryKind',
  description:
    'CREDIT: a payment (creditCustomer). RENEWAL: the price of a renewal. ADJUSTMENT: a correction.',
});

@ObjectType({ description: "One change of a customer's balance; the balance is the sum of them." })
export class LedgerEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLMoney, { description: 'Signed: a credit adds, a renewal takes away.' })
  amount!: string;

  @Field(() => GraphQLMoney, { description: 'The balance right after this entry.' })
  balanceAfter!: string;

  @Field(() => LedgerKind)
  kind!: LedgerKind;

  @Field(() => String, {
    nullable: true,
    description: "The reason: a payment's note, or what a renewal bought.",
  })
  note!: string | null;

  @Field({ description: 'Who did it: the API key or token name.' })
  actor!: string;

  @Field()
  createdAt!: Date;
}
