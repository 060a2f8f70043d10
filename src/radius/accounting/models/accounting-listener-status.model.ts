import { Field, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../../common/scalars/bigint.scalar';

@ObjectType({ description: 'Packets the accounting listener dropped for one reason.' })
export class DropCount {
  @Field({
    description:
      'malformed, unknown-nas, bad-authenticator, wrong-code, rate-limited (the source sent more than RADIUS_ACCT_RATE_PER_SOURCE packets a second), overloaded (too many packets waiting for the database) or write-failed (not answered, so the NAS retransmits).',
  })
  reason!: string;

  @Field(() => GraphQLBigInt)
  count!: number;
}

@ObjectType({ description: "radgraph's RADIUS accounting server, since this process started." })
export class AccountingListenerStatus {
  @Field({ description: 'false when RADIUS_ACCT_ENABLED=false or before it bound.' })
  listening!: boolean;

  @Field(() => String, { nullable: true })
  address!: string | null;

  @Field(() => Int, { nullable: true })
  port!: number | null;

  @Field(() => GraphQLBigInt)
  received!: number;

  @Field(() => GraphQLBigInt, {
    description:
      'Packets answered (Accounting-Response), each counted once: an answer sent again to a retransmit counts as a duplicate.',
  })
  answered!: number;

  @Field(() => GraphQLBigInt, { description: 'Packets committed to radacct.' })
  written!: number;

  @Field(() => GraphQLBigInt, {
    description: 'Retransmits of a packet being written (ignored) or answered (answered again).',
  })
  duplicates!: number;

  @Field(() => [DropCount])
  dropped!: DropCount[];
}
