import { Module } from '@nestjs/common';
import { NasModule } from '../nas/nas.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccountingListener } from './accounting/accounting-listener.service';
import { RadacctWriter } from './accounting/radacct-writer';
import { AccountingStatsResolver } from './accounting/accounting-stats.resolver';

/** The RADIUS protocol side: the accounting server (and, with NAS management, the CoA client). */
@Module({
  imports: [NasModule, SessionsModule],
  providers: [AccountingListener, RadacctWriter, AccountingStatsResolver],
  exports: [AccountingListener],
})
export class RadiusModule {}
