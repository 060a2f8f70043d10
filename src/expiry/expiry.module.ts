import { Module } from '@nestjs/common';
import { JobsModule } from '../common/jobs/jobs.module';
import { NasControlModule } from '../nas/control/nas-control.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { CustomerExpiringBus } from './events/customer-expiring-bus.service';
import { ExpiryActions } from './expiry-actions.service';
import { ExpiryJob } from './expiry-job.service';
import { ExpiryResolver } from './expiry.resolver';
import { ExpiringCustomersService } from './expiring-customers.service';

/**
 * Expiry: the job that disconnects customers online past expiresAt and sends the
 * customerExpiring reminders (subscription and webhook), and `expiringCustomers`.
 */
@Module({
  imports: [JobsModule, NasControlModule, WebhooksModule],
  providers: [
    ExpiryJob,
    ExpiryActions,
    ExpiringCustomersService,
    CustomerExpiringBus,
    ExpiryResolver,
  ],
  exports: [ExpiryJob, ExpiringCustomersService, CustomerExpiringBus],
})
export class ExpiryModule {}
