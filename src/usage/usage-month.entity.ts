import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Bytes a PPPoE user moved in one calendar month ("YYYY-MM", by the accounting update's
 * time). The database keeps it: triggers on radacct add every change of a session's counters
 * (see usage-triggers.ts), for radgraph's listener and FreeRADIUS alike, in the writer's own
 * transaction. radacct is never re-scanned, and its history is never deleted.
 */
@Entity({ name: 'rg_usage_monthly' })
export class UsageMonthEntity {
  @PrimaryColumn({ name: 'username', type: 'varchar', length: 64 })
  username!: string;

  @PrimaryColumn({ name: 'month', type: 'char', length: 7 })
  month!: string;

  /** acctinputoctets: from the customer. A decimal string (exact 64-bit). */
  @Column({ name: 'upload_bytes', type: 'bigint', default: 0 })
  uploadBytes!: string;

  /** acctoutputoctets: to the customer. */
  @Column({ name: 'download_bytes', type: 'bigint', default: 0 })
  downloadBytes!: string;
}
