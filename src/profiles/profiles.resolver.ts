import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CurrencyService } from '../common/money/currency.service';
import { GraphQLMoney } from '../common/scalars/money.scalar';
import { CreateProfileInput } from './dto/create-profile.input';
import { UpdateProfileInput } from './dto/update-profile.input';
import { toProfile } from './models/profile.mapper';
import { Profile } from './models/profile.model';
import { ProfileDirectoryService } from './profile-directory.service';
import { ProfilesService } from './profiles.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

@Resolver(() => Profile)
@RequireRole(Role.VIEWER)
export class ProfilesResolver {
  constructor(
    private readonly service: ProfilesService,
    private readonly directory: ProfileDirectoryService,
    private readonly currency: CurrencyService,
  ) {}

  @Query(() => [Profile], { description: 'Every profile, by name.' })
  async profiles(): Promise<Profile[]> {
    return (await this.directory.list()).map(toProfile);
  }

  @Query(() => Profile, { nullable: true })
  async profile(@Args('id', { type: () => ID }) id: string): Promise<Profile | null> {
    const found = await this.directory.find(id);
    return found ? toProfile(found) : null;
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => Profile)
  async createProfile(@Args('input') input: CreateProfileInput): Promise<Profile> {
    return toProfile(await this.service.create(input));
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => Profile, {
    description:
      "Changes only the fields given. A new name moves the FreeRADIUS group for every customer. New speeds also reach the profile's online customers at once (CoA): see rateChange.",
  })
  async updateProfile(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: UpdateProfileInput,
  ): Promise<Profile> {
    const { profile, rateChange } = await this.service.update(id, input);
    return { ...toProfile(profile), rateChange };
  }

  @ResolveField(() => GraphQLMoney, {
    description: 'What a renewal costs: renewCustomer deducts it from the balance. 0 is free.',
  })
  price(@Parent() p: Profile): string {
    return this.currency.format(p.priceMinor);
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'CONFLICT while customers use it.' })
  deleteProfile(@Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.service.delete(id);
  }
}
