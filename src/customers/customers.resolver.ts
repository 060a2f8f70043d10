import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { Role, type Principal } from '../auth/principal';
import { mapConnection } from '../common/pagination/connection';
import { DisconnectResult } from '../nas/control/models/disconnect-result.model';
import { CustomerDirectoryService } from './customer-directory.service';
import { CustomersService } from './customers.service';
import { CreateCustomerInput } from './dto/create-customer.input';
import { CustomersArgs } from './dto/customers.args';
import { UpdateCustomerInput } from './dto/update-customer.input';
import { ledgerActor } from './ledger-actor';
import { CustomerConnection } from './models/customer-connection.model';
import { toCustomer } from './models/customer.mapper';
import { Customer } from './models/customer.model';
import { RequireRole } from '../auth/roles.decorator';

@Resolver(() => Customer)
@RequireRole(Role.VIEWER)
export class CustomersResolver {
  constructor(
    private readonly service: CustomersService,
    private readonly directory: CustomerDirectoryService,
  ) {}

  @Query(() => CustomerConnection, { description: 'Newest first.' })
  async customers(@Args() args: CustomersArgs): Promise<CustomerConnection> {
    return mapConnection(await this.directory.list(args, args.first ?? 50, args.after), toCustomer);
  }

  @Query(() => Customer, {
    nullable: true,
    description: 'By exactly one of id, username or accountNo.',
  })
  async customer(
    @Args('id', { type: () => ID, nullable: true }) id?: string,
    @Args('username', { nullable: true }) username?: string,
    @Args('accountNo', { nullable: true }) accountNo?: string,
  ): Promise<Customer | null> {
    const found = await this.directory.findOne({ id, username, accountNo });
    return found ? toCustomer(found) : null;
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer)
  async createCustomer(@Args('input') input: CreateCustomerInput): Promise<Customer> {
    return toCustomer(await this.service.create(input));
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer)
  async updateCustomer(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: UpdateCustomerInput,
  ): Promise<Customer> {
    return toCustomer(await this.service.update(id, input));
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer, {
    description:
      'Moves the customer to another profile (FreeRADIUS group). When the customer is online, the new speed applies at once (CoA-Request with Mikrotik-Rate-Limit), without a reconnect.',
  })
  async changeCustomerProfile(
    @Args('id', { type: () => ID }) id: string,
    @Args('profileId', { type: () => ID }) profileId: string,
  ): Promise<Customer> {
    return toCustomer(await this.service.changeProfile(id, profileId));
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer, {
    description:
      "expiresAt = max(now, expiresAt) + validityDays, paid from the balance: the profile's price is deducted (a RENEWAL ledger entry). A balance short of the price is refused with BAD_USER_INPUT (reason INSUFFICIENT_BALANCE) and nothing changes, unless force: true, which lets the balance go negative.",
  })
  async renewCustomer(
    @Args('id', { type: () => ID }) id: string,
    @Args('force', { type: () => Boolean, nullable: true, defaultValue: false })
    force: boolean | null,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<Customer> {
    return toCustomer(
      await this.service.renew(id, { force: force === true, actor: ledgerActor(principal) }),
    );
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer, { description: 'FreeRADIUS rejects the login until resumeCustomer.' })
  async suspendCustomer(@Args('id', { type: () => ID }) id: string): Promise<Customer> {
    return toCustomer(await this.service.setSuspended(id, true));
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Customer)
  async resumeCustomer(@Args('id', { type: () => ID }) id: string): Promise<Customer> {
    return toCustomer(await this.service.setSuspended(id, false));
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => DisconnectResult, {
    description:
      "Disconnects the customer's open sessions: an RFC 5176 Disconnect-Request to each session's NAS, and the RouterOS API when CoA fails and the NAS has API settings. The session closes when the NAS sends its Stop.",
  })
  disconnectCustomer(@Args('id', { type: () => ID }) id: string): Promise<DisconnectResult> {
    return this.service.disconnect(id);
  }

  @RequireRole(Role.OPERATOR)
  @Mutation(() => Boolean, {
    description: 'Removes the customer and its FreeRADIUS rows; radacct history stays.',
  })
  deleteCustomer(@Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.service.delete(id);
  }
}
