import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';

/** What radgraph did in a month when the customer went over the profile's data limit. */
export enum DataCapAction {
  THROTTLED = 'THROTTLED',
  DISCONNECTED = 'DISCONNECTED',
}

registerEnumType(DataCapAction, {
  name: 'DataCapAction',
  description:
    "THROTTLED: a CoA-Request with the profile's FUP rate; DISCONNECTED: a Disconnect-Request (no FUP).",
});

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

  @Field(() => DataCapAction, {
    nullable: true,
    description:
      'What radgraph did when the customer went over the data limit this month (the NAS took it); null: nothing (under the limit, offline when it was crossed, or its plan changed since).',
  })
  capAction!: DataCapAction | null;

  @Field(() => Date, { nullable: true, description: 'When capAction was taken.' })
  capActedAt!: Date | null;
}
