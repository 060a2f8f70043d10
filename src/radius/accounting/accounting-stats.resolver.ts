import { Query, Resolver } from '@nestjs/graphql';
import { AccountingListener } from './accounting-listener.service';
import { AccountingListenerStatus } from './models/accounting-listener-status.model';
import { Role } from '../../auth/principal';
import { RequireRole } from '../../auth/roles.decorator';

@Resolver()
@RequireRole(Role.VIEWER)
export class AccountingStatsResolver {
  constructor(private readonly listener: AccountingListener) {}

  @Query(() => AccountingListenerStatus, {
    description: 'The accounting listener: where it listens, and its packet counters by outcome.',
  })
  accountingListener(): AccountingListenerStatus {
    const bound = this.listener.address();
    const s = this.listener.stats;
    return {
      listening: bound !== null,
      address: bound?.address ?? null,
      port: bound?.port ?? null,
      received: s.received,
      answered: s.answered,
      written: s.written,
      duplicates: s.duplicates,
      dropped: [...s.dropped].map(([reason, count]) => ({ reason, count })),
    };
  }
}
