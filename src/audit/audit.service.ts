import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { BadUserInputError } from '../common/errors/app-error';
import { keysetPage, type Connection } from '../common/pagination/connection';
import { optionalText } from '../common/validation/text';
import { optionalId } from '../common/validation/id';
import { inChunks } from '../common/sql/in-list';
import { insertEntities } from '../database/bulk-writes';
import { TransactionsService } from '../database/transactions.service';
import { auditChanges, type AuditFieldChange, type AuditSnapshot } from './audit-changes';
import { currentAuditActor, noteAuditRecorded, type AuditActor } from './audit-context';
import { AuditEntryEntity } from './audit-entry.entity';

/** What a change was made to. */
export interface AuditTarget {
  /** customer, profile, nas or apiKey. */
  type: string;
  id: string | number | null;
  /** What people call it: a username, a profile or NAS name. */
  label?: string | null;
}

/** One change of a record: snapshots before (null: created) and after (null: removed). */
export interface AuditRecord {
  target: AuditTarget;
  before: AuditSnapshot | null;
  after: AuditSnapshot | null;
  /** Changes no snapshot shows, such as a new password (secretChange). */
  extra?: AuditFieldChange[];
}

export interface AuditLogFilter {
  actor?: string | null;
  actorKind?: string | null;
  operation?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

const cut = (text: string | null, max: number) =>
  text === null ? null : [...text].slice(0, max).join('');

/**
 * The audit trail. A change's row is written with the change's own EntityManager, so that
 * both commit together: if the audit row cannot be written, the change is rolled back.
 * The actor and the operation come from the audited operation around the call
 * (audit-context.ts).
 */
@Injectable()
export class AuditService {
  private readonly log = new Logger('Audit');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: TransactionsService,
    private readonly clock: Clock,
  ) {}

  /** Writes the row of a change, in the transaction `m` of that change. */
  async record(m: EntityManager, change: AuditRecord): Promise<AuditEntryEntity> {
    const entry = this.entryOf(m, change, currentAuditActor(), this.clock.now());
    await m.getRepository(AuditEntryEntity).insert(entry);
    noteAuditRecorded();
    return entry;
  }

  /**
   * The rows of many changes in one operation (a CSV import), in the transaction `m`, with
   * multi-row INSERTs.
   */
  async recordMany(m: EntityManager, changes: readonly AuditRecord[]): Promise<void> {
    const who = currentAuditActor();
    const at = this.clock.now();
    await insertEntities(
      m,
      AuditEntryEntity,
      changes.map((c) => this.entryOf(m, c, who, at)),
    );
    changes.forEach(() => noteAuditRecorded());
  }

  private entryOf(
    m: EntityManager,
    change: AuditRecord,
    who: AuditActor,
    at: Date,
  ): AuditEntryEntity {
    const changes = [...auditChanges(change.before, change.after), ...(change.extra ?? [])];
    return m.create(AuditEntryEntity, {
      at,
      actor: cut(who.actor, 128)!,
      actorKind: cut(who.actorKind, 16)!,
      operation: cut(who.operation, 64)!,
      targetType: change.target.type,
      targetId: change.target.id === null ? null : cut(String(change.target.id), 64),
      targetLabel: cut(change.target.label ?? null, 128),
      changes: JSON.stringify(changes),
      outcome: null,
    });
  }

  /**
   * An action outside the database (a Disconnect-Request, a reconcile): its row is written
   * first, so that nothing is done that the trail does not show (if the row cannot be
   * written, the action does not run), and what came of it is added once known.
   */
  async recordAction<R>(
    change: AuditRecord,
    action: () => Promise<R>,
    outcome: (result: R) => string,
  ): Promise<R> {
    const entry = await this.tx.run((m) => this.record(m, change));
    let text: string;
    try {
      const result = await action();
      text = outcome(result);
      await this.setOutcome(entry.id, text);
      return result;
    } catch (err) {
      await this.setOutcome(entry.id, `failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Newest first, filtered; for auditLog. */
  list(
    filter: AuditLogFilter,
    first: number,
    after?: string | null,
  ): Promise<Connection<AuditEntryEntity>> {
    const actor = optionalText('filter.actor', filter.actor, 128, 'actor');
    const actorKind = optionalText('filter.actorKind', filter.actorKind, 16, 'actorKind');
    const operation = optionalText('filter.operation', filter.operation, 64, 'operation');
    const targetType = optionalText('filter.targetType', filter.targetType, 32, 'targetType');
    const id = optionalId('filter.targetId', filter.targetId, 'targetId');
    const targetId = id === null ? null : String(id);
    const { since, until } = filter;
    if (since && until && since.getTime() > until.getTime()) {
      throw new BadUserInputError('filter.until', 'until must not be before since');
    }
    return keysetPage({
      query: () => {
        const q = this.dataSource.getRepository(AuditEntryEntity).createQueryBuilder('a');
        q.where('1 = 1');
        if (actor !== null) q.andWhere('a.actor = :actor', { actor });
        if (actorKind !== null) q.andWhere('a.actorKind = :actorKind', { actorKind });
        if (operation !== null) q.andWhere('a.operation = :operation', { operation });
        if (targetType !== null) q.andWhere('a.targetType = :targetType', { targetType });
        if (targetId !== null) q.andWhere('a.targetId = :targetId', { targetId });
        if (since) q.andWhere('a.at >= :since', { since });
        if (until) q.andWhere('a.at <= :until', { until });
        return q;
      },
      key: 'a.id',
      idOf: (row) => row.id,
      prefix: 'audit',
      first,
      after,
    });
  }

  /**
   * The removals recorded of targets of `targetType` labelled one of `labels` (a customer's
   * username: compared as the database compares text), oldest first: when, and the fields the
   * target had (secrets as "***"). A removal is a row whose `keyField` (a field every live
   * target has, such as the username) went to nothing.
   */
  async removals(
    targetType: string,
    keyField: string,
    labels: readonly string[],
  ): Promise<Array<{ label: string; at: Date; before: Map<string, string | null> }>> {
    if (labels.length === 0) return [];
    const rows = await inChunks([...labels], (part) =>
      this.dataSource.getRepository(AuditEntryEntity).find({
        select: { id: true, at: true, targetLabel: true, changes: true },
        where: { targetType, targetLabel: In(part) },
        order: { id: 'ASC' },
      }),
    );
    return rows.flatMap((row) => {
      const changes = JSON.parse(row.changes) as AuditFieldChange[];
      const key = changes.find((c) => c.field === keyField);
      if (!key || key.before === null || key.after !== null) return [];
      const before = new Map(changes.map((c) => [c.field, c.before]));
      return [{ label: row.targetLabel ?? '', at: row.at, before }];
    });
  }

  private async setOutcome(id: number, outcome: string): Promise<void> {
    try {
      await this.dataSource
        .getRepository(AuditEntryEntity)
        .update({ id }, { outcome: cut(outcome, 500) });
    } catch (err) {
      this.log.warn(`cannot write the outcome of audit row ${id}: ${(err as Error).message}`);
    }
  }
}
