import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { NasRouterOs } from './nas-router-os.model';

@ObjectType({
  description:
    "A NAS router: a row of FreeRADIUS's nas table. The shared secret is write-only and never readable here.",
})
export class Nas {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'nas.nasname: the address FreeRADIUS matches clients on.' })
  name!: string;

  @Field(() => String, { nullable: true })
  shortname!: string | null;

  @Field(() => String, { nullable: true })
  type!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Int, { description: 'The RFC 5176 CoA/Disconnect port (default 3799).' })
  coaPort!: number;

  @Field(() => NasRouterOs, {
    nullable: true,
    description: 'The RouterOS API settings, or null when the NAS has none.',
  })
  routerOs!: NasRouterOs | null;
}
