import { Field, ObjectType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';

@ObjectType({ description: "A customer's traffic in one calendar month (UTC), from accounting." })
export class Usage {
  @Field({ description: '"YYYY-MM".' })
  month!: string;

  @Field(() => GraphQLBigInt, { description: 'From the customer (acctinputoctets).' })
  uploadBytes!: string;

  @Field(() => GraphQLBigInt, { description: 'To the customer (acctoutputoctets).' })
  downloadBytes!: string;

  @Field(() => GraphQLBigInt)
  totalBytes!: string;

  @Field(() => GraphQLBigInt, {
    nullable: true,
    description: "The profile's monthly data limit; null is unlimited.",
  })
  limitBytes!: string | null;
}
