import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { AppErrorFilter } from './common/errors/app-error.filter';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { GraphqlApiModule } from './graphql/graphql-api.module';
import { HealthModule } from './health/health.module';
import { SystemModule } from './system/system.module';
import { CustomersModule } from './customers/customers.module';
import { ProfilesModule } from './profiles/profiles.module';
import { SessionsModule } from './sessions/sessions.module';
import { NasModule } from './nas/nas.module';
import { RadiusModule } from './radius/radius.module';
import { ClockModule } from './common/clock/clock.module';
import { UsageModule } from './usage/usage.module';
import { ExpiryModule } from './expiry/expiry.module';
import { AuditModule } from './audit/audit.module';
import { JobsModule } from './common/jobs/jobs.module';
import { MetricsModule } from './metrics/metrics.module';
import { LoggingModule } from './logging/logging.module';
import { ConsoleModule } from './console/console.module';

@Module({})
export class AppModule {
  /** The whole application for one validated configuration (main.ts and the tests). */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        ClockModule,
        JobsModule,
        MetricsModule,
        DatabaseModule,
        AuditModule,
        AuthModule,
        GraphqlApiModule,
        HealthModule,
        SystemModule,
        ProfilesModule,
        NasModule,
        SessionsModule,
        CustomersModule,
        RadiusModule,
        UsageModule,
        ExpiryModule,
        ConsoleModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AppErrorFilter }],
    };
  }
}
