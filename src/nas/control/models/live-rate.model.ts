import { Field, ObjectType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../../common/scalars/bigint.scalar';

@ObjectType({
  description: "A session's rate now, from the router (/interface/monitor-traffic once).",
})
export class LiveRate {
  @Field(() => GraphQLBigInt, { description: 'bit/s from the customer (the router receives it).' })
  uploadBps!: bigint;

  @Field(() => GraphQLBigInt, { description: 'bit/s to the customer.' })
  downloadBps!: bigint;
}
