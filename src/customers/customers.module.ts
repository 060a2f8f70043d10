import { Module } from '@nestjs/common';
import { MoneyModule } from '../common/money/money.module';
import { NasControlModule } from '../nas/control/nas-control.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CustomerBillingResolver } from './customer-billing.resolver';
import { CustomerDirectoryService } from './customer-directory.service';
import { CustomerFieldsResolver } from './customer-fields.resolver';
import { CustomerLedgerService } from './customer-ledger.service';
import { BillingIdempotency } from './idempotency/billing-idempotency.service';
import { CustomersResolver } from './customers.resolver';
import { CustomersService } from './customers.service';
import { AccountAdoptionResolver } from './adoption/account-adoption.resolver';
import { AccountAdoptionService } from './adoption/account-adoption.service';
import { CustomerCsvResolver } from './csv/customer-csv.resolver';
import { CustomerExportService } from './csv/customer-export.service';
import { CustomerImportService } from './csv/customer-import.service';
import { ProfileCustomersResolver, SessionCustomerResolver } from './related-fields.resolver';

@Module({
  imports: [ProfilesModule, SessionsModule, NasControlModule, MoneyModule],
  providers: [
    CustomersService,
    CustomerDirectoryService,
    CustomerLedgerService,
    BillingIdempotency,
    CustomersResolver,
    CustomerBillingResolver,
    CustomerFieldsResolver,
    ProfileCustomersResolver,
    SessionCustomerResolver,
    CustomerImportService,
    CustomerExportService,
    CustomerCsvResolver,
    AccountAdoptionService,
    AccountAdoptionResolver,
  ],
  exports: [CustomersService, CustomerDirectoryService],
})
export class CustomersModule {}
