import { Module } from '@nestjs/common';
import { NasModule } from '../nas/nas.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccountingListener } from './accounting/accounting-listener.service';
import { NasClients } from './accounting/nas-clients';
import { RadacctWriter } from './accounting/radacct-writer';
import { AccountingStatsResolver } from './accounting/accounting-stats.resolver';

/** The RADIUS protocol side: the accounting server (and, with NAS management, the CoA client). */
@Module({
  imports: [NasModule, SessionsModule],
  providers: [AccountingListener, NasClients, RadacctWriter, AccountingStatsResolver],
  exports: [AccountingListener, NasClients],
})
export class RadiusModule {}
