import { Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { requestLoader } from '../common/dataloader/request-loader';
import type { GraphqlContext } from '../graphql/graphql-context';
import { Profile } from '../profiles/models/profile.model';
import { Session } from '../sessions/models/session.model';
import { CustomerDirectoryService } from './customer-directory.service';
import { toCustomer } from './models/customer.mapper';
import { Customer } from './models/customer.model';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

/** Fields of other modules' types that need customers: Profile.customerCount. */
@Resolver(() => Profile)
@RequireRole(Role.VIEWER)
export class ProfileCustomersResolver {
  constructor(private readonly directory: CustomerDirectoryService) {}

  @ResolveField(() => Int, { description: 'How many customers have this profile.' })
  customerCount(@Parent() p: Profile, @Context() ctx: GraphqlContext): Promise<number> {
    return requestLoader(
      ctx,
      'customerCountByProfile',
      (ids: readonly number[]) => this.directory.countByProfiles(ids),
      0,
    ).load(Number(p.id));
  }
}

/** Session.customer: the customer whose username the session carries. */
@Resolver(() => Session)
@RequireRole(Role.VIEWER)
export class SessionCustomerResolver {
  constructor(private readonly directory: CustomerDirectoryService) {}

  @ResolveField(() => Customer, { nullable: true })
  async customer(@Parent() s: Session, @Context() ctx: GraphqlContext): Promise<Customer | null> {
    const loader = requestLoader(
      ctx,
      'customerByUsername',
      (u: readonly string[]) => this.directory.byUsernames(u),
      null,
    );
    const found = await loader.load(s.username);
    return found ? toCustomer(found) : null;
  }
}
