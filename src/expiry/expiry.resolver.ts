import { Args, Query, Resolver, Subscription } from '@nestjs/graphql';
import { mapConnection } from '../common/pagination/connection';
import { CustomerConnection } from '../customers/models/customer-connection.model';
import { toCustomer } from '../customers/models/customer.mapper';
import { ExpiringCustomersArgs } from './dto/expiring-customers.args';
import { CustomerExpiringBus } from './events/customer-expiring-bus.service';
import { ExpiringCustomersService } from './expiring-customers.service';
import { CustomerExpiringEvent } from './models/customer-expiring-event.model';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

@Resolver()
@RequireRole(Role.VIEWER)
export class ExpiryResolver {
  constructor(
    private readonly expiring: ExpiringCustomersService,
    private readonly bus: CustomerExpiringBus,
  ) {}

  @Query(() => CustomerConnection, {
    description:
      'Who is due for renewal: customers whose expiresAt is between now and withinDays days from now (already expired ones are not), soonest first.',
  })
  async expiringCustomers(@Args() args: ExpiringCustomersArgs): Promise<CustomerConnection> {
    return mapConnection(
      await this.expiring.list(args.withinDays, args.first ?? 50, args.after),
      toCustomer,
    );
  }

  @Subscription(() => CustomerExpiringEvent, {
    description:
      'Once per customer and expiresAt, EXPIRY_REMINDER_DAYS days before it, raised by the expiry job (the same event goes to WEBHOOK_URL when set). A subscriber more than 20,000 events behind is dropped.',
    resolve: (event: CustomerExpiringEvent) => event,
  })
  customerExpiring(): AsyncIterableIterator<CustomerExpiringEvent> {
    return this.bus.subscribe();
  }
}
