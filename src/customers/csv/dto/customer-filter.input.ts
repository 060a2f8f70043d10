import { Field, ID, InputType } from '@nestjs/graphql';
import { CustomerStatus } from '../../customer-rules';

/** The filters of `customers`, as one input (exportCustomers). */
@InputType('CustomerFilter')
export class CustomerFilterInput {
  @Field(() => String, {
    nullable: true,
    description: 'Account no, username or phone: a prefix or a substring, as in customers(search).',
  })
  search?: string | null;

  @Field(() => CustomerStatus, { nullable: true })
  status?: CustomerStatus | null;

  @Field(() => ID, { nullable: true })
  profileId?: string | null;
}
