import type { EntityManager } from 'typeorm';
import type { CustomerEntity } from './customer.entity';
import { CustomerSearchKey } from './customer-search-key.entity';
import { searchKeys } from './customer-rules';

/** (Re)writes a customer's search keys, inside the caller's transaction. */
export async function writeSearchKeys(m: EntityManager, c: CustomerEntity): Promise<void> {
  const repo = m.getRepository(CustomerSearchKey);
  await repo.delete({ customerId: c.id });
  const rows = searchKeys(c).map((k, pos) => ({ customerId: c.id, pos, k }));
  if (rows.length > 0) await repo.insert(rows);
}
