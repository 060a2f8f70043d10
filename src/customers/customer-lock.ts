import type { EntityManager } from 'typeorm';
import { NotFoundError } from '../common/errors/app-error';
import { parseId } from '../common/validation/id';
import { rowLock } from '../database/row-locks';
import { CustomerEntity } from './customer.entity';

/**
 * The customer, read inside a transaction with its row locked (SELECT … FOR UPDATE on
 * MySQL; SQLite runs one transaction at a time anyway), so concurrent changes of one
 * customer, its balance included, happen one after the other. NOT_FOUND names `field`, as
 * does BAD_USER_INPUT for a malformed id (parseId).
 */
export async function lockCustomer(
  m: EntityManager,
  id: string,
  field = 'id',
): Promise<CustomerEntity> {
  const customer = await m.getRepository(CustomerEntity).findOne({
    where: { id: parseId(field, id) },
    lock: rowLock(m, 'pessimistic_write'),
  });
  if (!customer) throw new NotFoundError(`No customer with id ${id}`, { field });
  return customer;
}
