import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLBigInt } from '../../common/scalars/bigint.scalar';
import { RateChangeReport } from '../../nas/control/models/rate-change.model';

@ObjectType({ description: 'An internet plan. Its name is also its FreeRADIUS group name.' })
export class Profile {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Also its FreeRADIUS group name.' })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Null when FreeRADIUS matches the profile's group. Otherwise why it cannot (a name made before radgraph refused characters that FreeRADIUS's SQL module rewrites): the profile's customers get none of its replies, no speed limit, at login, until the profile is renamed.",
  })
  groupNameProblem!: string | null;

  @Field(() => Int)
  downloadRateKbps!: number;

  @Field(() => Int)
  uploadRateKbps!: number;

  @Field(() => GraphQLBigInt, {
    nullable: true,
    description: 'Per calendar month; null = unlimited.',
  })
  dataLimitBytes!: string | null;

  @Field(() => Int, { description: 'Subscription length: a renewal adds this many days.' })
  validityDays!: number;

  @Field(() => Int, {
    description: 'The Acct-Interim-Interval FreeRADIUS replies with, in seconds.',
  })
  interimIntervalSeconds!: number;

  @Field({ description: 'The Mikrotik-Rate-Limit value FreeRADIUS replies with, "<up>k/<down>k".' })
  rateLimit!: string;

  @Field(() => Int, { nullable: true, description: 'Fair use: upload speed over the data limit.' })
  fupUploadRateKbps!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Fair use: download speed over the data limit.',
  })
  fupDownloadRateKbps!: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The Mikrotik-Rate-Limit a customer over the data limit gets (CoA at once, and at the next login), or null: disconnected and refused until next month.',
  })
  fupRateLimit!: string | null;

  @Field(() => RateChangeReport, {
    nullable: true,
    description:
      "Only in updateProfile's answer, when it changed the speeds: the new rate pushed to the profile's online customers with CoA, and how many sessions it reached.",
  })
  rateChange?: RateChangeReport | null;

  /** Not exposed as is: `price` (ProfilesResolver) shows it in the currency's decimals. */
  priceMinor!: string;
}
