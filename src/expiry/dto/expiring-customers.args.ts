import { ArgsType, Field, Int } from '@nestjs/graphql';

@ArgsType()
export class ExpiringCustomersArgs {
  @Field(() => Int, {
    description:
      'Customers whose expiresAt is after now and at most this many days from now (0 to 3660).',
  })
  withinDays!: number;

  @Field(() => Int, { nullable: true, defaultValue: 50, description: 'At most 500.' })
  first!: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}
