import { Args, Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { requestLoader } from '../common/dataloader/request-loader';
import type { GraphqlContext } from '../graphql/graphql-context';
import { toProfile } from '../profiles/models/profile.mapper';
import { profileById } from '../profiles/profile.loader';
import { Profile } from '../profiles/models/profile.model';
import { ProfileDirectoryService } from '../profiles/profile-directory.service';
import { SessionConnection } from '../sessions/models/session-connection.model';
import { Session } from '../sessions/models/session.model';
import { AuthLogService } from '../sessions/auth-log.service';
import { AuthAttempt } from '../sessions/models/auth-attempt.model';
import { SessionsService } from '../sessions/sessions.service';
import { CustomerStatus, customerStatus } from './customer-rules';
import { Customer } from './models/customer.model';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

/** Customer fields that read other modules, batched per request (no query per row). */
@Resolver(() => Customer)
@RequireRole(Role.VIEWER)
export class CustomerFieldsResolver {
  constructor(
    private readonly profiles: ProfileDirectoryService,
    private readonly sessionsService: SessionsService,
    private readonly authLog: AuthLogService,
  ) {}

  @ResolveField(() => [AuthAttempt], {
    description:
      'The most recent authentication attempts (radpostauth), newest first: for troubleshooting.',
  })
  authAttempts(
    @Parent() c: Customer,
    @Context() ctx: GraphqlContext,
    @Args('last', { type: () => Int, defaultValue: 10 }) last: number,
  ): Promise<AuthAttempt[]> {
    return requestLoader(
      ctx,
      `authAttempts:${last}`,
      (u: readonly string[]) => this.authLog.recent(u, last),
      [] as AuthAttempt[],
    ).load(c.username);
  }

  @ResolveField(() => Profile, { nullable: true })
  async profile(@Parent() c: Customer, @Context() ctx: GraphqlContext): Promise<Profile | null> {
    const found = await profileById(ctx, this.profiles).load(c.profileId);
    return found ? toProfile(found) : null;
  }

  @ResolveField(() => Session, { nullable: true, description: 'The open radacct session, if any.' })
  currentSession(@Parent() c: Customer, @Context() ctx: GraphqlContext): Promise<Session | null> {
    return this.openSessions(ctx).load(c.username);
  }

  @ResolveField(() => Boolean, { description: 'True while there is an open radacct row.' })
  async online(@Parent() c: Customer, @Context() ctx: GraphqlContext): Promise<boolean> {
    return (await this.openSessions(ctx).load(c.username)) !== null;
  }

  @ResolveField(() => CustomerStatus)
  async status(@Parent() c: Customer, @Context() ctx: GraphqlContext): Promise<CustomerStatus> {
    return customerStatus(c, (await this.openSessions(ctx).load(c.username)) !== null);
  }

  @ResolveField(() => SessionConnection, { description: 'Connection history, newest first.' })
  sessions(
    @Parent() c: Customer,
    @Args('first', { type: () => Int, nullable: true, defaultValue: 20 }) first: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<SessionConnection> {
    return this.sessionsService.history(c.username, first ?? 20, after);
  }

  private openSessions(ctx: GraphqlContext) {
    return requestLoader(
      ctx,
      'openSessionByUsername',
      (u: readonly string[]) => this.sessionsService.openByUsernames(u),
      null as Session | null,
    );
  }
}
