import { Field, InputType } from '@nestjs/graphql';

/** Only the fields given change; phone or name null/empty clears it. */
@InputType()
export class UpdateCustomerInput {
  @Field(() => String, { nullable: true, description: 'Write-only.' })
  password?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  name?: string | null;
}
