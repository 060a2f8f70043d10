import { Args, Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { requestLoader } from '../common/dataloader/request-loader';
import { ListSize } from '../common/pagination/list-size';
import { Customer } from '../customers/models/customer.model';
import type { GraphqlContext } from '../graphql/graphql-context';
import type { ProfileEntity } from '../profiles/profile.entity';
import { ProfilesService } from '../profiles/profiles.service';
import { DataCapAction, Usage } from './models/usage.model';
import { MAX_HISTORY_MONTHS, usageKey, UsageService, type MonthUsage } from './usage.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

/** rg_cap_actions.action as the API shows it. */
const CAP_ACTIONS: Record<string, DataCapAction> = {
  fup: DataCapAction.THROTTLED,
  disconnect: DataCapAction.DISCONNECTED,
};

/** Customer.usage and Customer.usageHistory, from the monthly rollup, batched per request. */
@Resolver(() => Customer)
@RequireRole(Role.VIEWER)
export class CustomerUsageResolver {
  constructor(
    private readonly usageService: UsageService,
    private readonly profiles: ProfilesService,
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
      async (keys: readonly string[]) => {
        const parsed = keys.map((k) => {
          const [month, username] = k.split('\u0000');
          return { month, username };
        });
        return this.usageService.of(parsed);
      },
      null as MonthUsage | null,
    );
    const profile = await requestLoader(
      ctx,
      'profileById',
      (ids: readonly number[]) => this.profiles.findMany(ids),
      null as ProfileEntity | null,
    ).load(c.profileId);
    const found = await Promise.all(months.map((m) => usageLoader.load(usageKey(c.username, m))));
    return found.map((u, i) => {
      const action = u?.capAction ? (CAP_ACTIONS[u.capAction.action] ?? null) : null;
      const up = u?.uploadBytes ?? 0n;
      const down = u?.downloadBytes ?? 0n;
      return {
        month: months[i],
        uploadBytes: up.toString(),
        downloadBytes: down.toString(),
        totalBytes: (up + down).toString(),
        limitBytes: profile?.dataLimitBytes ?? null,
        capAction: action,
        capActedAt: action ? u!.capAction!.actedAt : null,
      };
    });
  }
}
