import type { AuditEntryEntity } from '../audit-entry.entity';
import type { AuditEntry, AuditFieldChange } from './audit-entry.model';

export function toAuditEntry(e: AuditEntryEntity): AuditEntry {
  return {
    id: String(e.id),
    at: e.at,
    actor: e.actor,
    actorKind: e.actorKind,
    operation: e.operation,
    targetType: e.targetType,
    targetId: e.targetId,
    targetLabel: e.targetLabel,
    changes: JSON.parse(e.changes) as AuditFieldChange[],
    outcome: e.outcome,
  };
}
