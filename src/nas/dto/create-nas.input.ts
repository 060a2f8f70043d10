import { Field, InputType, Int } from '@nestjs/graphql';
import { RouterOsSettingsInput } from './router-os-settings.input';

@InputType()
export class CreateNasInput {
  @Field({
    description:
      "nas.nasname: the NAS's IP address, which FreeRADIUS and radgraph's listener match packets on.",
  })
  name!: string;

  @Field(() => String, { nullable: true, description: 'At most 32 characters.' })
  shortname?: string | null;

  @Field({
    description:
      'The RADIUS shared secret (printable ASCII, at most 60 characters). Write-only: never readable.',
  })
  secret!: string;

  @Field(() => String, {
    nullable: true,
    description: "nas.type, e.g. 'mikrotik' (default 'other').",
  })
  type?: string | null;

  @Field(() => String, { nullable: true, description: 'At most 200 characters.' })
  description?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'The RFC 5176 CoA/Disconnect port (default 3799).',
  })
  coaPort?: number | null;

  @Field(() => RouterOsSettingsInput, { nullable: true })
  routerOs?: RouterOsSettingsInput | null;
}
