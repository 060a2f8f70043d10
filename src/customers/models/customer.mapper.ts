import type { CustomerEntity } from '../customer.entity';
import { Customer } from './customer.model';

export function toCustomer(e: CustomerEntity): Customer {
  return {
    id: String(e.id),
    accountNo: e.accountNo,
    username: e.username,
    phone: e.phone,
    name: e.name,
    joinedAt: e.joinedAt,
    expiresAt: e.expiresAt,
    suspended: e.suspended,
    profileId: e.profileId,
    balanceMinor: String(e.balanceMinor),
  };
}
