import { Module } from '@nestjs/common';
import { NasModule } from '../nas/nas.module';
import { AuthLogService } from './auth-log.service';
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
  ],
  exports: [SessionsService, OnlineSessionsService, AuthLogService],
})
export class SessionsModule {}
