import { Field, ID, InputType } from '@nestjs/graphql';

@InputType()
export class CreateCustomerInput {
  @Field({ description: 'PPPoE login: 1-64 characters, no whitespace; unique.' })
  username!: string;

  @Field(() => String, {
    nullable: true,
    description:
      '1-128 characters. Write-only: no query returns it. Omitted or null: radgraph generates one (12 characters from a CSPRNG, without look-alikes) and returns it once, in Customer.generatedPassword of this answer.',
  })
  password?: string | null;

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
