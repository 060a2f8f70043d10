import { Args, Int, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { Role, type Principal } from '../auth/principal';
import { SystemService } from './system.service';
import { Viewer } from './models/viewer.model';
import { RequireRole } from '../auth/roles.decorator';

@Resolver()
@RequireRole(Role.VIEWER)
export class SystemResolver {
  constructor(private readonly system: SystemService) {}

  @Query(() => Viewer, { description: 'Who the server takes the caller to be.' })
  viewer(@CurrentPrincipal() principal: Principal): Viewer {
    return { name: principal.name, role: principal.role };
  }

  @Subscription(() => Date, {
    description:
      'The server time, at once and then every intervalSeconds (1-3600): a liveness signal for dashboards.',
  })
  heartbeat(
    @Args('intervalSeconds', { type: () => Int, defaultValue: 15 }) intervalSeconds: number,
  ): AsyncIterableIterator<{ heartbeat: Date }> {
    return this.system.heartbeat(intervalSeconds);
  }
}
