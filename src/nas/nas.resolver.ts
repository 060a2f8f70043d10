import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CreateNasInput } from './dto/create-nas.input';
import { UpdateNasInput } from './dto/update-nas.input';
import { Nas } from './models/nas.model';
import { NasAdminService } from './nas-admin.service';
import { NasService } from './nas.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

@Resolver(() => Nas)
@RequireRole(Role.VIEWER)
export class NasResolver {
  constructor(
    private readonly service: NasService,
    private readonly admin: NasAdminService,
  ) {}

  @Query(() => [Nas], { description: "Every NAS router of FreeRADIUS's nas table, by name." })
  nasDevices(): Promise<Nas[]> {
    return this.service.list();
  }

  @Query(() => Nas, { nullable: true })
  nas(@Args('id', { type: () => ID }) id: string): Promise<Nas | null> {
    return this.service.find(id);
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => Nas, {
    description:
      "Adds a NAS to FreeRADIUS's nas table (FreeRADIUS reads its clients at start: restart it to pick the NAS up; radgraph's listener knows it at once).",
  })
  createNas(@Args('input') input: CreateNasInput): Promise<Nas> {
    return this.admin.create(input);
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => Nas, {
    description:
      'Changes only the fields given, in one transaction. A change of the RouterOS API host (routerOs.host, or the name while routerOs.host is not set) without a new routerOs.password is refused with BAD_USER_INPUT (field input.routerOs.password, reason ROUTEROS_PASSWORD_REQUIRED), writing nothing: the stored password is only sent to the host it was given for.',
  })
  updateNas(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: UpdateNasInput,
  ): Promise<Nas> {
    return this.admin.update(id, input);
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => Boolean, {
    description: 'CONFLICT while the NAS has open sessions, unless force is true.',
  })
  deleteNas(
    @Args('id', { type: () => ID }) id: string,
    @Args('force', { type: () => Boolean, defaultValue: false }) force: boolean,
  ): Promise<boolean> {
    return this.admin.delete(id, force);
  }
}
