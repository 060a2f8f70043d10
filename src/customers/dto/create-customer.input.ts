import { Field, ID, InputType } from '@nestjs/graphql';

@InputType()
export class CreateCustomerInput {
  @Field({ description: 'PPPoE login: 1-64 characters, no whitespace; unique.' })
  username!: string;

  @Field({ description: '1-128 characters. Write-only: no query returns it.' })
  password!: string;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => ID)
  profileId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Generated when not given (e.g. RG-7KQ2-M9XD).',
  })
  accountNo?: string | null;
}
