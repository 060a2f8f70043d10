import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Session } from '../../sessions/models/session.model';
import { LiveRate } from './models/live-rate.model';
import { NasHealthService } from './nas-health.service';
import { Role } from '../../auth/principal';
import { RequireRole } from '../../auth/roles.decorator';

/** Session.liveRate. */
@Resolver(() => Session)
@RequireRole(Role.VIEWER)
export class SessionLiveRateResolver {
  constructor(private readonly health: NasHealthService) {}

  @ResolveField(() => LiveRate, {
    nullable: true,
    description:
      "The session's rate now, read on demand from the router's RouterOS API; null when its NAS has no API settings or the router does not answer.",
  })
  liveRate(@Parent() s: Session): Promise<LiveRate | null> {
    if (s.stoppedAt) return Promise.resolve(null);
    return this.health.liveRate(s.nasIpAddress, s.username);
  }
}
