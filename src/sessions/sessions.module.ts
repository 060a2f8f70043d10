import { Module } from '@nestjs/common';
import { NasModule } from '../nas/nas.module';
import { AuthLogService } from './auth-log.service';
import { SessionEventBus } from './events/session-event-bus.service';
import { RadacctChangeFeed } from './feed/radacct-change-feed.service';
import { SessionEventsResolver, SessionStaleResolver } from './session-events.resolver';
import { SessionRetention } from './retention/session-retention.service';
import { StaleSessionReaper } from './stale/stale-session-reaper.service';
import { OnlineSessionsService } from './online-sessions.service';
import {
  NasOnlineCountResolver,
  NasOnlineResolver,
  SessionNasResolver,
} from './session-nas-fields.resolver';
import { SessionsResolver } from './sessions.resolver';
import { SessionsService } from './sessions.service';

@Module({
  imports: [NasModule],
  providers: [
    SessionsService,
    OnlineSessionsService,
    AuthLogService,
    SessionsResolver,
    SessionNasResolver,
    NasOnlineResolver,
    NasOnlineCountResolver,
    SessionEventBus,
    SessionEventsResolver,
    SessionStaleResolver,
    RadacctChangeFeed,
    StaleSessionReaper,
    SessionRetention,
  ],
  exports: [
    SessionsService,
    OnlineSessionsService,
    AuthLogService,
    SessionEventBus,
    RadacctChangeFeed,
    StaleSessionReaper,
    SessionRetention,
  ],
})
export class SessionsModule {}
