import { Inject } from '@nestjs/common';
import {
  Args,
  Context,
  ID,
  Int,
  Parent,
  ResolveField,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
import { ListSize } from '../common/pagination/list-size';
import { requireInt } from '../common/validation/text';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { MAX_BATCH_EVENTS } from './events/event-batches';
import { SessionEventBus } from './events/session-event-bus.service';
import { SessionEvent } from './models/session-event.model';
import { Session } from './models/session.model';
import { OnlineSessionsService } from './online-sessions.service';
import { requestLoader } from '../common/dataloader/request-loader';
import type { GraphqlContext } from '../graphql/graphql-context';
import { SessionsService } from './sessions.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

@Resolver()
@RequireRole(Role.VIEWER)
export class SessionEventsResolver {
  constructor(
    private readonly bus: SessionEventBus,
    private readonly online: OnlineSessionsService,
  ) {}

  @Subscription(() => SessionEvent, {
    description:
      "Every accounting change (start, interim, stop), as it commits: from radgraph's accounting listener, from rows FreeRADIUS writes (the radacct change feed), and from the stale-session reaper. Both filters are optional (an empty username is none). Per session, events arrive in order; a subscriber more than 1,000 events behind gets the latest state of each session from then on (updates coalesce), and one more than 20,000 sessions behind (not counting what one publish, such as a NAS reboot's STOPPED events, brings at once) is dropped: its subscription ends with the error SLOW_CONSUMER. With several instances (REDIS_URL), a subscription ends with the error EVENTS_MISSED when events may not have reached it through Redis (its instance lost Redis and has it back, or another instance could not publish and can again): subscribe again and reload the sessions. With nasId, it follows that NAS: when its address (nasname) changes (updateNas on any instance, at once; another writer of the nas table within 30 s), it ends with the error NAS_CHANGED (extensions.field nasId), and when the NAS is deleted, with NOT_FOUND: subscribe again (the filter then means the new address) and reload the sessions.",
    resolve: (event: SessionEvent) => event,
  })
  async sessionEvents(
    @Args('nasId', { type: () => ID, nullable: true }) nasId?: string | null,
    @Args('username', { type: () => String, nullable: true }) username?: string | null,
  ): Promise<AsyncIterableIterator<SessionEvent>> {
    const nas = nasId == null ? {} : await this.online.nasFilterOf(nasId);
    return this.bus.subscribe(
      await this.bus.prepare({ ...nas, username: usernameFilter(username) }),
    );
  }

  @Subscription(() => [SessionEvent], {
    description:
      'The same events as sessionEvents, in batches: a batch goes out at most maxLatencyMs (0-10000, default 100) after its first event, with each session once, in its latest state (a STARTED followed by updates stays STARTED). Dashboards and NOC walls should use this one: subscribers with the same filters and latency share each batch, so the server builds its payload once for all of them, and a client that reads slowly gets merged batches (the latest state of every session) instead of falling behind. Both filters are optional (an empty username is none). With announceLive: true, the first batch is an empty list, sent to this subscriber alone as soon as its subscription is registered: every event committed after it arrives will come. A dashboard that shows a snapshot (onlineSessions) with live updates subscribes with it, waits for the empty batch, then loads the snapshot and applies on top of it, in order, the batches that came meanwhile (an event the snapshot already reflects brings the same state or a newer one, so applying it is harmless); after a reconnection graphql-ws subscribes again and the empty batch comes again, so it loads the snapshot again then. It ends with the error EVENTS_MISSED when events may not have come through Redis (REDIS_URL: an instance lost Redis and has it back): subscribe again, and load the snapshot again after the empty batch. With nasId, it ends with the error NAS_CHANGED when the address of that NAS changes, and NOT_FOUND when it is deleted, as sessionEvents does: subscribe again, and load the snapshot again after the empty batch.',
    resolve: (batch: SessionEvent[]) => batch,
  })
  @ListSize({ max: MAX_BATCH_EVENTS })
  async sessionEventBatches(
    @Args('nasId', { type: () => ID, nullable: true }) nasId?: string | null,
    @Args('username', { type: () => String, nullable: true }) username?: string | null,
    @Args('maxLatencyMs', { type: () => Int, nullable: true, defaultValue: 100 })
    maxLatencyMs?: number | null,
    @Args('announceLive', {
      type: () => Boolean,
      nullable: true,
      defaultValue: false,
      description:
        'Send an empty batch first, as soon as this subscription is live: a snapshot read after it misses no event.',
    })
    announceLive?: boolean | null,
  ): Promise<AsyncIterableIterator<SessionEvent[]>> {
    const latency = requireInt(
      'maxLatencyMs',
      maxLatencyMs ?? 100,
      0,
      MAX_BATCH_LATENCY_MS,
      `a whole number of milliseconds from 0 to ${MAX_BATCH_LATENCY_MS}`,
    );
    const nas = nasId == null ? {} : await this.online.nasFilterOf(nasId);
    const filter = await this.bus.prepare({ ...nas, username: usernameFilter(username) });
    return this.bus.subscribeBatches(filter, latency, announceLive === true);
  }
}

/**
 * The username a subscription filters on: none for an empty one too (a cleared search box), as
 * onlineSessions takes an empty `search`; a filter on '' would match no session, silently.
 */
const usernameFilter = (username?: string | null) => username || undefined;

/** The longest a batch may wait for more events (sessionEventBatches). */
const MAX_BATCH_LATENCY_MS = 10_000;

/** Session.stale, by the configured stale-session rule. */
@Resolver(() => Session)
@RequireRole(Role.VIEWER)
export class SessionStaleResolver {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionsService,
  ) {}

  @ResolveField(() => Boolean, {
    description:
      'Open, but no accounting change for longer than STALE_SESSION_MULTIPLIER times its interim interval (at least STALE_SESSION_MIN_SECONDS): the NAS has likely lost it. The reaper closes it with cause Stale-Session.',
  })
  stale(@Parent() s: Session, @Context() ctx: GraphqlContext): Promise<boolean> {
    return requestLoader(
      ctx,
      'sessionStale',
      async (batch: readonly Session[]) => {
        const flags = await this.sessions.staleFlags(batch, this.config.staleSessions);
        return new Map(batch.map((session, i) => [session, flags[i]]));
      },
      false,
    ).load(s);
  }
}
