import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { CustomerStatus } from '../customer-rules';

registerEnumType(CustomerStatus, {
  name: 'CustomerStatus',
  description: 'SUSPENDED > EXPIRED > ONLINE > OFFLINE: the first that holds.',
});

/**
 * A PPPoE customer. profile, status, online, currentSession and sessions are resolved by
 * CustomerFieldsResolver, batched per request. There is no password field, by design.
 */
@ObjectType()
export class Customer {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Unique; generated when not given.' })
  accountNo!: string;

  @Field({ description: 'PPPoE login; unique.' })
  username!: string;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field()
  joinedAt!: Date;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field({ description: 'True while suspended: FreeRADIUS rejects the login.' })
  suspended!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'The password radgraph generated, only in the answer of the mutation that generated it (createCustomer without a password, resetCustomerPassword); null everywhere else. It is never stored anywhere but radcheck, and never shown again.',
  })
  generatedPassword?: string | null;

  /** Not exposed: the key the profile field resolves by. */
  profileId!: number;

  /** Not exposed as is: `balance` (CustomerBillingResolver) shows it in the currency's decimals. */
  balanceMinor!: string;
}
