import { Module } from '@nestjs/common';
import { ProfilesModule } from '../profiles/profiles.module';
import { CustomerUsageResolver } from './customer-usage.resolver';
import { UsageService } from './usage.service';

/** Usage per customer per calendar month, and (with profiles' data limits) the data cap. */
@Module({
  imports: [ProfilesModule],
  providers: [UsageService, CustomerUsageResolver],
  exports: [UsageService],
})
export class UsageModule {}
