import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Session } from './session.model';

export enum SessionEventType {
  STARTED = 'STARTED',
  UPDATED = 'UPDATED',
  STOPPED = 'STOPPED',
}

registerEnumType(SessionEventType, {
  name: 'SessionEventType',
  description: 'What an accounting update did to a session.',
  valuesMap: {
    STARTED: {
      description:
        'A new session (Start, or the first update of one radgraph had not seen), or one closed as stale that its NAS reported again.',
    },
    UPDATED: { description: 'An open session changed (Interim-Update).' },
    STOPPED: {
      description:
        'The session ended (Stop, Accounting-On/Off of its NAS, or the stale-session reaper).',
    },
  },
});

@ObjectType({ description: 'One change to a session, published after it committed.' })
export class SessionEvent {
  @Field(() => SessionEventType)
  type!: SessionEventType;

  @Field(() => Session, { description: 'The session as stored after the change.' })
  session!: Session;

  /**
   * Not in the schema: for an event of the radacct change feed, the seq of its queue row, by
   * which every instance delivers a page the feed published twice only once.
   */
  feedSeq?: string;

  /**
   * Not in the schema: the publishing instance and batch, by which the instance that delivered
   * a batch itself when its publish failed drops the copy Redis may have taken after all.
   */
  publishId?: string;
}
