/** What the audit trail shows for a secret or password: that it changed, never its value. */
export const MASK = '***';

/**
 * Field names whose values are never written to the audit trail: passwords, shared secrets,
 * tokens and key hashes, whatever entity they belong to.
 */
const SECRET_FIELD = /password|secret|token|hash|sealed/i;

export const isSecretField = (field: string): boolean => SECRET_FIELD.test(field);

/** One field of a change, as the trail shows it. */
export interface AuditFieldChange {
  field: string;
  before: string | null;
  after: string | null;
}

/** A record's auditable fields: plain values (Date, bigint and objects are turned to text). */
export type AuditSnapshot = Record<string, unknown>;

/** How a value reads in the trail: ISO times, decimal numbers, JSON for anything else. */
export function auditText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/**
 * The fields that differ between two snapshots of a record (null before: it was created;
 * null after: it was removed), in the order they first appear. Secret fields are compared
 * on their real values and shown as "***" (or null when there was none).
 */
export function auditChanges(
  before: AuditSnapshot | null,
  after: AuditSnapshot | null,
): AuditFieldChange[] {
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  const changes: AuditFieldChange[] = [];
  for (const field of fields) {
    const was = auditText(before?.[field]);
    const now = auditText(after?.[field]);
    if (was === now) continue;
    const shown = (v: string | null) => (v !== null && isSecretField(field) ? MASK : v);
    changes.push({ field, before: shown(was), after: shown(now) });
  }
  return changes;
}

/** A secret that was set, with no value known before or after (a customer's new password). */
export function secretChange(field: string): AuditFieldChange {
  return { field, before: MASK, after: MASK };
}

/**
 * An entity's own fields as a snapshot, without `omit` (ids, bookkeeping columns), so that a
 * column a later migration adds is audited without anyone remembering to.
 */
export function entitySnapshot(entity: object, omit: readonly string[] = []): AuditSnapshot {
  const out: AuditSnapshot = {};
  for (const [key, value] of Object.entries(entity)) {
    if (omit.includes(key) || typeof value === 'function') continue;
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) continue; // relations
    out[key] = value;
  }
  return out;
}
