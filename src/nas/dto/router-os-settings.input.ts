import { Field, InputType, Int } from '@nestjs/graphql';

@InputType({
  description:
    "A NAS's RouterOS API (MikroTik), for the fallback disconnect, health and live rates.",
})
export class RouterOsSettingsInput {
  @Field(() => String, {
    nullable: true,
    description:
      "Default: the NAS's name (its address). A NAS entered as a network has no such default: each session's own NAS address serves the fallback disconnect and live rates, and reconcileNas and reachable need this host. On an update, another host than the stored one (this, or the name it defaults to) needs the password again.",
  })
  host?: string | null;

  @Field(() => Int, { nullable: true, description: 'Default 8728, or 8729 with TLS.' })
  port?: number | null;

  @Field({ description: 'The API user (a RouterOS user with the api policy).' })
  user!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Write-only: stored encrypted, never readable, and only sent to the host it was given for. Required the first time, and on an update that changes the host (host, or the NAS's name while host is not set; compared trimmed, names case-insensitively): without it that update is refused (BAD_USER_INPUT, reason ROUTEROS_PASSWORD_REQUIRED). Also required on an update that turns tls off (or leaves it out: routerOs replaces the whole settings) or tlsVerify off: the stored password may not travel less protected than it was given for. On an update that keeps the host and TLS (another port or user, or stronger TLS settings), leave it out to keep the stored one.",
  })
  password?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'api-ssl (default false).' })
  tls?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "With tls: check the router's certificate (default true). false accepts RouterOS's usual self-signed api-ssl certificate; the traffic is still encrypted.",
  })
  tlsVerify?: boolean | null;
}
