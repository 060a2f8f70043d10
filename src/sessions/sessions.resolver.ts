import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { SessionConnection } from './models/session-connection.model';
import { OnlineSummary } from './models/online-summary.model';
import { Session } from './models/session.model';
import { OnlineSessionsService } from './online-sessions.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

@Resolver(() => Session)
@RequireRole(Role.VIEWER)
export class SessionsResolver {
  constructor(private readonly online: OnlineSessionsService) {}

  @Query(() => SessionConnection, {
    description:
      'Open sessions, newest first, on one NAS (nasId) or all, matching search. Without nasId and search, totalCount may be up to a second old (sessionEvents has every change).',
  })
  onlineSessions(
    @Args('nasId', { type: () => ID, nullable: true }) nasId?: string,
    @Args('search', {
      type: () => String,
      nullable: true,
      description:
        "A session matches when its username, IP address or MAC address starts with this, or its username is a customer's whose username contains it: case-insensitive, % and _ taken literally, a MAC written with ':', '-', no separators or in groups of four (aabb.ccdd.eeff).",
    })
    search?: string,
    @Args('first', { type: () => Int, nullable: true, defaultValue: 50 }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<SessionConnection> {
    return this.online.list({ nasId, search }, first ?? 50, after);
  }

  @Query(() => OnlineSummary, {
    description:
      'How many are online, and per NAS: sessions and traffic. Up to a second old (sessionEvents has every change).',
  })
  onlineSummary(): Promise<OnlineSummary> {
    return this.online.summary() as Promise<OnlineSummary>;
  }

  @Query(() => [Session], {
    description: 'The open sessions with the most traffic so far (upload + download).',
  })
  topSessions(
    @Args('first', { type: () => Int, defaultValue: 10 }) first: number,
  ): Promise<Session[]> {
    return this.online.top(first);
  }
}
