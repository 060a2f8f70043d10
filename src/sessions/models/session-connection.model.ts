import { ObjectType } from '@nestjs/graphql';
import { ConnectionOf } from '../../common/pagination/connection';
import { Session } from './session.model';

@ObjectType('SessionConnection')
export class SessionConnection extends ConnectionOf(Session, 'Session') {}
