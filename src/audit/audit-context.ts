import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is changing something, and through which operation. */
export interface AuditActor {
  /** The API key or token's name, "cli", or "system": never a secret. */
  actor: string;
  /** 'api-key', 'admin-token', 'cli' or 'system'. */
  actorKind: string;
  /** The GraphQL mutation (createCustomer) or the command (apikey create). */
  operation: string;
}

interface AuditScope extends AuditActor {
  /** How many audit rows this operation has written. */
  recorded: number;
  /** Set by an operation that by its arguments changes nothing (a dry run). */
  readOnly: boolean;
}

const storage = new AsyncLocalStorage<AuditScope>();

/** The actor of a change made with no operation around it (a job, a script). */
export const SYSTEM_ACTOR = 'system';
/** The CLI's actors are `cli:<user>`, of kind "cli". */
export const CLI_ACTOR_KIND = 'cli';

/** A change made with no operation around it (a job, a script): still recorded, as "system". */
const SYSTEM: AuditActor = { actor: SYSTEM_ACTOR, actorKind: 'system', operation: 'system' };

/**
 * Runs `work` as one audited operation: every audit row written inside it names this actor
 * and operation. AuditInterceptor opens one around each GraphQL mutation, the CLI around
 * each of its commands.
 */
export function runAudited<T>(actor: AuditActor, work: () => T): T {
  return storage.run({ ...actor, recorded: 0, readOnly: false }, work);
}

/** The operation being audited now, or "system". */
export function currentAuditActor(): AuditActor {
  const scope = storage.getStore();
  return scope
    ? { actor: scope.actor, actorKind: scope.actorKind, operation: scope.operation }
    : SYSTEM;
}

/** Counts a row written for the current operation. */
export function noteAuditRecorded(): void {
  const scope = storage.getStore();
  if (scope) scope.recorded++;
}

/** Marks the current operation as one that changed nothing by design (a dry run). */
export function noteReadOnly(): void {
  const scope = storage.getStore();
  if (scope) scope.readOnly = true;
}

/** Whether the current operation wrote its audit rows, or had none to write (noteReadOnly). */
export function auditAccountedFor(): boolean {
  const scope = storage.getStore();
  return scope === undefined || scope.recorded > 0 || scope.readOnly;
}
