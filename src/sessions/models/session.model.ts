import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';

@ObjectType({ description: 'One PPPoE session: a radacct row.' })
export class Session {
  @Field(() => ID, { description: 'radacct.radacctid' })
  id!: string;

  @Field({ description: 'acctuniqueid' })
  uniqueId!: string;

  @Field({ description: 'acctsessionid' })
  sessionId!: string;

  @Field()
  username!: string;

  @Field(() => String, { nullable: true, description: 'framedipaddress' })
  ipAddress!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'framedipv6address: the IPv6 address given to the customer (IPv6-only and dual-stack).',
  })
  ipv6Address!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "framedipv6prefix: the customer's link prefix (SLAAC), e.g. 2001:db8:1::/64.",
  })
  ipv6Prefix!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'delegatedipv6prefix: the prefix delegated to the customer (DHCPv6-PD), e.g. 2001:db8:100::/56.',
  })
  delegatedIpv6Prefix!: string | null;

  @Field(() => String, { nullable: true, description: 'callingstationid' })
  macAddress!: string | null;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  stoppedAt!: Date | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'acctsessiontime once stopped (stop minus start when the Stop carried none); for an open session, the time since it started.',
  })
  durationSeconds!: number | null;

  @Field(() => GraphQLBigInt, { description: 'acctinputoctets (+ gigawords): from the customer.' })
  uploadBytes!: string;

  @Field(() => GraphQLBigInt, { description: 'acctoutputoctets (+ gigawords): to the customer.' })
  downloadBytes!: string;

  @Field()
  nasIpAddress!: string;

  @Field(() => String, { nullable: true })
  nasPortId!: string | null;

  @Field(() => String, { nullable: true })
  terminateCause!: string | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "The server's time of the session's last accounting change (updatedAt is the NAS's clock).",
  })
  lastSeenAt!: Date | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'acctinterval: seconds between its last two updates. The stale rule takes it as the interim interval when it is 60 or more (a shorter gap is an update sent again), else STALE_SESSION_DEFAULT_INTERVAL_SECONDS.',
  })
  interimIntervalSeconds!: number | null;
}
