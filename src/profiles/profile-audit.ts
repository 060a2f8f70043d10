import { entitySnapshot } from '../audit/audit-changes';
import type { AuditRecord } from '../audit/audit.service';
import type { ProfileEntity } from './profile.entity';

/** A profile's audit row: its own fields, without keys and bookkeeping. */
export function profileAudit(
  before: ProfileEntity | null,
  after: ProfileEntity | null,
): AuditRecord {
  const p = (after ?? before)!;
  const fields = (e: ProfileEntity | null) =>
    e && entitySnapshot(e, ['id', 'createdAt', 'updatedAt']);
  return {
    target: { type: 'profile', id: p.id, label: p.name },
    before: fields(before),
    after: fields(after),
  };
}
