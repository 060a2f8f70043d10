import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { Role } from '../../auth/principal';
import { RequireRole } from '../../auth/roles.decorator';
import { AccountAdoptionService } from './account-adoption.service';
import { AdoptionResult } from './models/adoption-result.model';

@Resolver()
export class AccountAdoptionResolver {
  constructor(private readonly adoption: AccountAdoptionService) {}

  @RequireRole(Role.ADMIN)
  @Mutation(() => AdoptionResult, {
    description:
      "Brings the users and groups another tool (daloRADIUS, phpnuxbill, hand-written SQL) left in FreeRADIUS's tables under radgraph: each group no profile owns becomes a profile (speeds from its Mikrotik-Rate-Limit's base rate), each radcheck user no customer owns a customer of its lowest-priority group's profile. FreeRADIUS's rows stay byte for byte. A dry run (the default) writes nothing and answers the same; otherwise one transaction, and running it again adopts nothing more. The CLI does the same: npm run cli -- adopt [--dry-run].",
  })
  adoptFreeradiusAccounts(
    @Args('dryRun', { type: () => Boolean, defaultValue: true }) dryRun: boolean,
  ): Promise<AdoptionResult> {
    return this.adoption.adopt({ dryRun });
  }
}
