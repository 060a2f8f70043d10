import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: "A NAS's RouterOS API settings. The password is write-only." })
export class NasRouterOs {
  @Field()
  host!: string;

  @Field(() => Int)
  port!: number;

  @Field()
  user!: string;

  @Field()
  tls!: boolean;

  @Field({ description: "With tls: whether the router's certificate is checked." })
  tlsVerify!: boolean;

  @Field({ description: 'Whether a password is stored (it is never readable).' })
  passwordSet!: boolean;
}
