import { Field, InputType, Int } from '@nestjs/graphql';
import type { MoneyInput } from '../../common/money/money';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';
import { GraphQLMoney } from '../../common/scalars/money.scalar';

/** Only the fields given change. `dataLimitBytes: null` makes the profile unlimited. */
@InputType()
export class UpdateProfileInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Int, { nullable: true })
  downloadRateKbps?: number | null;

  @Field(() => Int, { nullable: true })
  uploadRateKbps?: number | null;

  @Field(() => GraphQLBigInt, {
    nullable: true,
    description: 'Bytes per calendar month, at least 1; null makes the profile unlimited.',
  })
  dataLimitBytes?: bigint | null;

  @Field(() => Int, { nullable: true })
  validityDays?: number | null;

  @Field(() => Int, { nullable: true })
  interimIntervalSeconds?: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'Fair use: the upload speed once the monthly data limit is used up, instead of a disconnect (set both FUP speeds, or neither).',
  })
  fupUploadRateKbps?: number | null;

  @Field(() => Int, { nullable: true, description: 'Fair use: the download speed over the limit.' })
  fupDownloadRateKbps?: number | null;

  @Field(() => GraphQLMoney, {
    nullable: true,
    description: 'What a renewal costs, deducted from the balance (0: free).',
  })
  price?: MoneyInput | null;
}
