import { ObjectType } from '@nestjs/graphql';
import { ConnectionOf } from '../../common/pagination/connection';
import { Customer } from './customer.model';

@ObjectType('CustomerConnection')
export class CustomerConnection extends ConnectionOf(Customer, 'Customer') {}
