import { Field, InputType, Int } from '@nestjs/graphql';
import type { MoneyInput } from '../../common/money/money';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';
import { GraphQLMoney } from '../../common/scalars/money.scalar';

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
    description:
      'Bytes per calendar month, at least 1; null = unlimited (0 is refused: it would reject every login).',
  })
  dataLimitBytes?: bigint | null;

  @Field(() => Int)
  validityDays!: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Acct-Interim-Interval in seconds (60-86400); default 300.',
  })
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
    description: 'What a renewal costs, deducted from the balance; 0 (free) by default.',
  })
  price?: MoneyInput | null;
}
