import { Module } from '@nestjs/common';
import { CoaModule } from '../../radius/coa/coa.module';
import { SessionsModule } from '../../sessions/sessions.module';
import { NasModule } from '../nas.module';
import { RouterOsModule } from '../routeros/routeros.module';
import { NasHealthResolver } from './nas-health.resolver';
import { NasHealthService } from './nas-health.service';
import { NasReconciler } from './nas-reconciler.service';
import { SessionControlService } from './session-control.service';
import { SessionLiveRateResolver } from './session-live-rate.resolver';

/**
 * Acting on the NAS routers' live sessions: disconnect (CoA, RouterOS API fallback), speed
 * changes (CoA), health, live rates and reconciliation with /ppp/active.
 */
@Module({
  imports: [NasModule, SessionsModule, CoaModule, RouterOsModule],
  providers: [
    SessionControlService,
    NasHealthService,
    NasReconciler,
    NasHealthResolver,
    SessionLiveRateResolver,
  ],
  exports: [SessionControlService],
})
export class NasControlModule {}
