import { Field, ObjectType } from '@nestjs/graphql';

export type DisconnectMethod = 'coa' | 'routeros' | 'none';

@ObjectType({
  description:
    'What disconnectCustomer did. The session row closes when the NAS sends its Stop; a session the NAS says it does not have (Disconnect-NAK 503 Session-Context-Not-Found, or none of the user on the router through the RouterOS API) has its row closed at once as Stale-Session.',
})
export class DisconnectResult {
  @Field({ description: 'Every open session of the customer was disconnected.' })
  ok!: boolean;

  @Field({
    description:
      '"coa" (RFC 5176 Disconnect-Request), "routeros" (the RouterOS API, after CoA failed) or "none" (nothing was sent: the customer is offline, or the NAS is unknown).',
  })
  method!: DisconnectMethod;

  @Field(() => String, { nullable: true })
  message!: string | null;
}
