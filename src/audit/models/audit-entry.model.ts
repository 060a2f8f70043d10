import { Field, ID, ObjectType } from '@nestjs/graphql';
import { ConnectionOf } from '../../common/pagination/connection';
import { ListSize } from '../../common/pagination/list-size';

@ObjectType({ description: 'One field of an audited change. Secrets and passwords read "***".' })
export class AuditFieldChange {
  @Field()
  field!: string;

  @Field(() => String, { nullable: true, description: 'Null: the record had no value (created).' })
  before!: string | null;

  @Field(() => String, { nullable: true, description: 'Null: no value now (removed).' })
  after!: string | null;
}

@ObjectType({
  description:
    'One mutation, written in the same transaction as the change it records: who, what, to which record, and the fields it changed.',
})
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field()
  at!: Date;

  @Field({ description: "The API key or token's name; cli or system outside the API." })
  actor!: string;

  @Field({ description: 'api-key, admin-token, cli or system.' })
  actorKind!: string;

  @Field({ description: 'The mutation, e.g. createCustomer.' })
  operation!: string;

  @Field({ description: 'customer, profile, nas or apiKey.' })
  targetType!: string;

  @Field(() => ID, { nullable: true })
  targetId!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The username, profile or NAS name at the time.',
  })
  targetLabel!: string | null;

  // One per field of the record: the widest audited record (a NAS, its nas row and its
  // settings) has 14; the complexity limit counts 20.
  @Field(() => [AuditFieldChange])
  @ListSize({ max: 20 })
  changes!: AuditFieldChange[];

  @Field(() => String, {
    nullable: true,
    description:
      'For an action outside the database (disconnectCustomer, reconcileNas): what came of it. The row is written before the action runs.',
  })
  outcome!: string | null;
}

@ObjectType('AuditEntryConnection')
export class AuditEntryConnection extends ConnectionOf(AuditEntry, 'AuditEntry') {}
