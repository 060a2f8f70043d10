import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Role } from '../../principal';

@ObjectType({ description: 'An API key. The key itself is shown only once, by createApiKey.' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field({ description: "The key's first characters, to tell keys apart." })
  prefix!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'To the minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}
