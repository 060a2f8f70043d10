import { Field, InputType, Int } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';

/** Only the fields given change. `dataLimitBytes: null` makes the profile unlimited. */
@InputType()
export class UpdateProfileInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Int, { nullable: true })
  downloadRateKbps?: number | null;

  @Field(() => Int, { nullable: true })
  uploadRateKbps?: number | null;

  @Field(() => GraphQLBigInt, { nullable: true })
  dataLimitBytes?: bigint | null;

  @Field(() => Int, { nullable: true })
  validityDays?: number | null;

  @Field(() => Int, { nullable: true })
  interimIntervalSeconds?: number | null;
}
