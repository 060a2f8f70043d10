import { ArgsType, Field, ID, Int } from '@nestjs/graphql';
import { CustomerStatus } from '../customer-rules';

@ArgsType()
export class CustomersArgs {
  @Field(() => String, {
    nullable: true,
    description:
      'Account no, username or phone: a prefix or a substring, case-insensitive; a phone number matches on its digits.',
  })
  search?: string | null;

  @Field(() => CustomerStatus, { nullable: true })
  status?: CustomerStatus | null;

  @Field(() => ID, { nullable: true })
  profileId?: string | null;

  @Field(() => Int, { nullable: true, defaultValue: 50, description: 'At most 500.' })
  first!: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}
