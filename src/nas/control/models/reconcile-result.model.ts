import { Field, ID, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({
  description: 'A session active on the router (/ppp/active) with no open radacct row.',
})
export class RouterOnlySession {
  @Field({ description: 'The PPP user name.' })
  username!: string;

  @Field(() => String, { nullable: true })
  address!: string | null;

  @Field(() => String, { nullable: true, description: 'caller-id: the MAC address.' })
  callerId!: string | null;

  @Field(() => String, { nullable: true })
  uptime!: string | null;

  @Field(() => String, { nullable: true })
  sessionId!: string | null;
}

@ObjectType({ description: "One reconciliation of a NAS's /ppp/active against radacct." })
export class ReconcileResult {
  @Field(() => ID)
  nasId!: string;

  @Field()
  checkedAt!: Date;

  @Field(() => Int, { description: 'Sessions active on the router.' })
  routerSessions!: number;

  @Field(() => Int, { description: 'Open radacct rows of this NAS before the check.' })
  openSessions!: number;

  @Field(() => [ID], {
    description:
      'radacctids of the sessions the router no longer has, now closed as Stale-Session.',
  })
  closedSessionIds!: string[];

  @Field(() => [RouterOnlySession])
  routerOnly!: RouterOnlySession[];
}
