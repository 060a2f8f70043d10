import { Module } from '@nestjs/common';
import { NasControlModule } from '../nas/control/nas-control.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CustomerDirectoryService } from './customer-directory.service';
import { CustomerFieldsResolver } from './customer-fields.resolver';
import { CustomersResolver } from './customers.resolver';
import { CustomersService } from './customers.service';
import { ProfileCustomersResolver, SessionCustomerResolver } from './related-fields.resolver';

@Module({
  imports: [ProfilesModule, SessionsModule, NasControlModule],
  providers: [
    CustomersService,
    CustomerDirectoryService,
    CustomersResolver,
    CustomerFieldsResolver,
    ProfileCustomersResolver,
    SessionCustomerResolver,
  ],
  exports: [CustomersService, CustomerDirectoryService],
})
export class CustomersModule {}
