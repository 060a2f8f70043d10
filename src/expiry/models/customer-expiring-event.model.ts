import { Field, Int, ObjectType } from '@nestjs/graphql';
import { Customer } from '../../customers/models/customer.model';

@ObjectType({
  description:
    'A customer is due for renewal: sent once per customer and expiresAt, EXPIRY_REMINDER_DAYS days before it (the hook for SMS reminders).',
})
export class CustomerExpiringEvent {
  @Field(() => Customer)
  customer!: Customer;

  @Field({ description: 'The expiry this reminder is about.' })
  expiresAt!: Date;

  @Field(() => Int, { description: 'Whole days until expiresAt, rounded up (at least 1).' })
  daysLeft!: number;
}
