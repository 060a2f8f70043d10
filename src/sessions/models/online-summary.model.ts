import { Field, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';
import { Nas } from '../../nas/models/nas.model';

@ObjectType({ description: 'The open sessions of one NAS (by radacct.nasipaddress).' })
export class NasOnline {
  @Field()
  nasIpAddress!: string;

  @Field(() => Nas, {
    nullable: true,
    description:
      'The nas row whose nasname is nasIpAddress, else the longest network (e.g. 10.0.0.0/24) holding it.',
  })
  nas!: Nas | null;

  @Field(() => Int)
  count!: number;

  @Field(() => GraphQLBigInt, { description: 'Uploaded in the current sessions.' })
  uploadBytes!: string;

  @Field(() => GraphQLBigInt, { description: 'Downloaded in the current sessions.' })
  downloadBytes!: string;
}

@ObjectType()
export class OnlineSummary {
  @Field(() => Int, { description: 'Open sessions in all.' })
  total!: number;

  @Field(() => [NasOnline], { description: 'Per NAS, the most sessions first.' })
  byNas!: NasOnline[];
}
