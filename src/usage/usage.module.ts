import { Module } from '@nestjs/common';
import { NasControlModule } from '../nas/control/nas-control.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CapActionStore } from './cap-action.store';
import { DataCapEnforcer } from './data-cap-enforcer.service';
import { CustomerUsageResolver } from './customer-usage.resolver';
import { UsageService } from './usage.service';

/** Usage per customer per calendar month, and (with profiles' data limits) the data cap. */
@Module({
  imports: [ProfilesModule, SessionsModule, NasControlModule],
  providers: [UsageService, CustomerUsageResolver, CapActionStore, DataCapEnforcer],
  exports: [UsageService, DataCapEnforcer],
})
export class UsageModule {}
