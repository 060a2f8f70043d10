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
      "The data cap's latest action this month, from when it is sent (it goes back to null if the NAS did not take it, and is taken again after a plan change); null: none, e.g. under the limit, or over it while offline (FreeRADIUS then refuses the login, or gives the FUP rate).",
  })
  capAction!: DataCapAction | null;

  @Field(() => Date, { nullable: true, description: 'When the latest capAction was taken.' })
  capActedAt!: Date | null;
}
