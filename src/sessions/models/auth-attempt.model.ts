import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType({
  description: 'One authentication attempt, from radpostauth (FreeRADIUS post-auth log).',
})
export class AuthAttempt {
  @Field()
  at!: Date;

  @Field({ description: 'Access-Accept or Access-Reject.' })
  reply!: string;

  @Field()
  accepted!: boolean;
}
