import { Field, ObjectType } from '@nestjs/graphql';

export type DisconnectMethod = 'coa' | 'routeros' | 'none';

@ObjectType({
  description: 'What disconnectCustomer did. The session row closes when the NAS sends its Stop.',
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
