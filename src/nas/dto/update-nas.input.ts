import { Field, InputType, Int } from '@nestjs/graphql';
import { RouterOsSettingsInput } from './router-os-settings.input';

@InputType({ description: 'Changes only the fields given.' })
export class UpdateNasInput {
  @Field(() => String, { nullable: true })
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
    description: 'Sets the RouterOS API settings; null removes them.',
  })
  routerOs?: RouterOsSettingsInput | null;
}
