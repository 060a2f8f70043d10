import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({
  description:
    'A speed change pushed to online sessions with CoA-Request (Mikrotik-Rate-Limit), without a reconnect.',
})
export class RateChangeReport {
  @Field({ description: 'The Mikrotik-Rate-Limit sent.' })
  rateLimit!: string;

  @Field(() => Int, { description: 'Open sessions it was sent to.' })
  sessions!: number;

  @Field(() => Int, { description: 'Sessions whose NAS acknowledged it (CoA-ACK).' })
  reached!: number;

  @Field(() => Int, {
    description:
      "Sessions it was not sent to because their customer is held at the data cap's FUP rate this month (over the plan's data limit); the data cap sends them the rate their new plan gives them.",
  })
  held!: number;

  @Field(() => [String], {
    description:
      'Why the others were not reached, at most 20 lines: first one for each NAS the push gave up on (it left COA_GIVE_UP_AFTER_TIMEOUTS CoA-Requests in a row unanswered, so its remaining sessions were not tried), then one per session.',
  })
  failures!: string[];
}
