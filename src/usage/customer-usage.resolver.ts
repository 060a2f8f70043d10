import { Args, Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { requestLoader } from '../common/dataloader/request-loader';
import { ListSize } from '../common/pagination/list-size';
import { Customer } from '../customers/models/customer.model';
import type { GraphqlContext } from '../graphql/graphql-context';
import { profileById } from '../profiles/profile.loader';
import { ProfileDirectoryService } from '../profiles/profile-directory.service';
import { toUsage } from './models/usage.mapper';
import { Usage } from './models/usage.model';
import {
  MAX_HISTORY_MONTHS,
  usageKey,
  usageKeyParts,
  UsageService,
  type MonthUsage,
} from './usage.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

/** Customer.usage and Customer.usageHistory, from the monthly rollup, batched per request. */
@Resolver(() => Customer)
@RequireRole(Role.VIEWER)
export class CustomerUsageResolver {
  constructor(
    private readonly usageService: UsageService,
    private readonly profiles: ProfileDirectoryService,
  ) {}

  @ResolveField(() => Usage, {
    description: 'Traffic in a calendar month (UTC), "YYYY-MM"; the current month by default.',
  })
  async usage(
    @Parent() c: Customer,
    @Context() ctx: GraphqlContext,
    @Args('month', { type: () => String, nullable: true }) month?: string | null,
  ): Promise<Usage> {
    const [usage] = await this.months(c, ctx, [this.usageService.month('month', month)]);
    return usage;
  }

  @ResolveField(() => [Usage], { description: 'The last `months` months, newest first.' })
  @ListSize({ max: MAX_HISTORY_MONTHS, argument: 'months' })
  usageHistory(
    @Parent() c: Customer,
    @Context() ctx: GraphqlContext,
    @Args('months', { type: () => Int, defaultValue: 6 }) months: number,
  ): Promise<Usage[]> {
    return this.months(c, ctx, this.usageService.lastMonths('months', months));
  }

  private async months(c: Customer, ctx: GraphqlContext, months: string[]): Promise<Usage[]> {
    const usageLoader = requestLoader(
      ctx,
      'usageByUserMonth',
      (keys: readonly string[]) => this.usageService.of(keys.map(usageKeyParts)),
      null as MonthUsage | null,
    );
    const profile = await profileById(ctx, this.profiles).load(c.profileId);
    const found = await Promise.all(months.map((m) => usageLoader.load(usageKey(c.username, m))));
    return found.map((u, i) => toUsage(months[i], u, profile?.dataLimitBytes ?? null));
  }
}
