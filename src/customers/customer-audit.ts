import { entitySnapshot } from '../audit/audit-changes';
import type { AuditTarget } from '../audit/audit.service';
import type { CustomerEntity } from './customer.entity';

/** What the audit trail leaves out of a customer: keys and bookkeeping. */
const AUDIT_OMIT = ['id', 'searchText', 'createdAt', 'updatedAt'];

/** A customer's fields as the audit trail compares them. */
export const customerSnapshot = (c: CustomerEntity) => entitySnapshot(c, AUDIT_OMIT);

export const customerTarget = (c: CustomerEntity): AuditTarget => ({
  type: 'customer',
  id: c.id,
  label: c.username,
});
