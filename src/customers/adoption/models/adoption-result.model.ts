import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { AdoptionItemKind } from '../account-adoption.service';

registerEnumType(AdoptionItemKind, {
  name: 'AdoptionItemKind',
  description: 'What an adoption problem is about: a FreeRADIUS group or a FreeRADIUS user.',
  valuesMap: {
    PROFILE: { description: 'A group (radgroupreply, radgroupcheck, radusergroup).' },
    CUSTOMER: { description: 'A user (radcheck).' },
  },
});

@ObjectType({
  description:
    'A FreeRADIUS group or user that was not adopted (adopted: false), or was adopted without something (adopted: true), and why.',
})
export class AdoptionProblem {
  @Field(() => AdoptionItemKind)
  kind!: AdoptionItemKind;

  @Field({ description: "The group's or the user's name in FreeRADIUS's tables." })
  name!: string;

  @Field({ description: 'Whether it was (or in a dry run would be) adopted all the same.' })
  adopted!: boolean;

  @Field()
  reason!: string;
}

@ObjectType({ description: 'What adoptFreeradiusAccounts did, or in a dry run would do.' })
export class AdoptionResult {
  @Field()
  dryRun!: boolean;

  @Field({ description: 'Whether anything was written: never in a dry run.' })
  written!: boolean;

  @Field(() => Int, { description: 'Groups no profile owned that became profiles.' })
  profilesAdopted!: number;

  @Field(() => Int, { description: 'Groups no profile owns that were not adopted (see problems).' })
  profilesSkipped!: number;

  @Field(() => Int, { description: 'Users no customer owned that became customers.' })
  customersAdopted!: number;

  @Field(() => Int, { description: 'Users no customer owns that were not adopted (see problems).' })
  customersSkipped!: number;

  @Field(() => [AdoptionProblem], { description: 'Groups first, then users, by name.' })
  problems!: AdoptionProblem[];
}
