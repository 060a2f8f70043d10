import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One audited change: who (the API key or token's name), through which operation, to what,
 * and the fields before and after, written in the transaction of the change itself. Rows are
 * only ever added. Secrets and passwords are stored as "***".
 */
@Entity({ name: 'rg_audit_log' })
@Index('IDX_rg_audit_log_target', ['targetType', 'targetId', 'id'])
@Index('IDX_rg_audit_log_label', ['targetType', 'targetLabel', 'id'])
@Index('IDX_rg_audit_log_actor', ['actor', 'id'])
@Index('IDX_rg_audit_log_operation', ['operation', 'id'])
@Index('IDX_rg_audit_log_at', ['at'])
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  /**
   * To the millisecond (MySQL's datetime(3)): a whole second would put a change made after a
   * `since` instant of its own second before it, and a trail read since the last read would
   * miss it.
   */
  @Column({ name: 'at', type: 'datetime', precision: 3 })
  at!: Date;

  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  /** api-key, admin-token, cli or system. */
  @Column({ name: 'actor_kind', type: 'varchar', length: 16 })
  actorKind!: string;

  @Column({ name: 'operation', type: 'varchar', length: 64 })
  operation!: string;

  /** customer, profile, nas or apiKey. */
  @Column({ name: 'target_type', type: 'varchar', length: 32 })
  targetType!: string;

  @Column({ name: 'target_id', type: 'varchar', length: 64, nullable: true })
  targetId!: string | null;

  /** What people call the target (a username, a profile or NAS name), as it was then. */
  @Column({ name: 'target_label', type: 'varchar', length: 128, nullable: true })
  targetLabel!: string | null;

  /** JSON: [{ field, before, after }], secrets as "***". */
  @Column({ name: 'changes', type: 'text' })
  changes!: string;

  /** For an action outside the database (a disconnect): what came of it, once known. */
  @Column({ name: 'outcome', type: 'varchar', length: 500, nullable: true })
  outcome!: string | null;
}
