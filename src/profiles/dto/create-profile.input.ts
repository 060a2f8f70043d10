import { Field, InputType, Int } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';

@InputType()
export class CreateProfileInput {
  @Field({ description: 'Unique; also the FreeRADIUS group name (at most 64 characters).' })
  name!: string;

  @Field(() => Int)
  downloadRateKbps!: number;

  @Field(() => Int)
  uploadRateKbps!: number;

  @Field(() => GraphQLBigInt, {
    nullable: true,
    description: 'Per calendar month; null = unlimited.',
  })
  dataLimitBytes?: bigint | null;

  @Field(() => Int)
  validityDays!: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Acct-Interim-Interval in seconds (60-86400); default 300.',
  })
  interimIntervalSeconds?: number | null;
}
