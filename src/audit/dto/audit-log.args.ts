import { ArgsType, Field, ID, InputType, Int } from '@nestjs/graphql';

@InputType()
export class AuditLogFilter {
  @Field(() => String, { nullable: true, description: "The API key or token's name." })
  actor?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'api-key, admin-token, cli or system: tells an API key from another caller.',
  })
  actorKind?: string | null;

  @Field(() => String, { nullable: true, description: 'A mutation name, e.g. deleteCustomer.' })
  operation?: string | null;

  @Field(() => String, { nullable: true, description: 'customer, profile, nas or apiKey.' })
  targetType?: string | null;

  @Field(() => ID, { nullable: true })
  targetId?: string | null;

  @Field(() => Date, { nullable: true, description: 'From this time on (inclusive).' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Up to this time (inclusive).' })
  until?: Date | null;
}

@ArgsType()
export class AuditLogArgs {
  @Field(() => AuditLogFilter, { nullable: true })
  filter?: AuditLogFilter | null;

  @Field(() => Int, { nullable: true, defaultValue: 50, description: 'At most 500.' })
  first!: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}
