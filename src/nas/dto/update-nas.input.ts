import { Field, InputType, Int } from '@nestjs/graphql';
import { RouterOsSettingsInput } from './router-os-settings.input';

@InputType({ description: 'Changes only the fields given.' })
export class UpdateNasInput {
  @Field(() => String, {
    nullable: true,
    description:
      "The NAS's address. The RouterOS API follows it while routerOs.host is not set: a new name then needs routerOs with its password again (ROUTEROS_PASSWORD_REQUIRED).",
  })
  name?: string | null;

  @Field(() => String, { nullable: true })
  shortname?: string | null;

  @Field(() => String, { nullable: true, description: 'A new shared secret. Write-only.' })
  secret?: string | null;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Int, { nullable: true })
  coaPort?: number | null;

  @Field(() => RouterOsSettingsInput, {
    nullable: true,
    description:
      'Sets the RouterOS API settings; null removes them. The stored password is kept only while the host stays the same: moving the API to another host needs routerOs.password again.',
  })
  routerOs?: RouterOsSettingsInput | null;
}
