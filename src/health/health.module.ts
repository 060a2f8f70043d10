import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ExpiryModule } from '../expiry/expiry.module';
import { RadiusModule } from '../radius/radius.module';
import { SessionsModule } from '../sessions/sessions.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SessionsModule, RadiusModule, ExpiryModule],
  controllers: [HealthController],
})
export class HealthModule {}
