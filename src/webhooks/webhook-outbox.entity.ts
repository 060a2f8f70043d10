import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A webhook event still to deliver (the transactional outbox): written in the transaction of
 * what raised it (a reminder's claim), so the event is stored exactly when that commits, and
 * deleted once the receiver took it, refused it, or was given up on (WebhookSender).
 */
@Entity({ name: 'rg_webhook_outbox' })
@Index('IDX_rg_webhook_outbox_next_attempt', ['nextAttemptAt'])
export class WebhookOutboxEntity {
  /** The event's id (X-Radgraph-Delivery and the body's id): receivers drop duplicates by it. */
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 191 })
  id!: string;

  /** X-Radgraph-Event, e.g. customerExpiring. */
  @Column({ name: 'type', type: 'varchar', length: 64 })
  type!: string;

  /** The JSON body, as every try sends it (signed afresh each time). */
  @Column({ name: 'body', type: 'text' })
  body!: string;

  /** Tries begun so far; a try claims the row by moving this on (one instance per try). */
  @Column({ name: 'attempts', type: 'int', default: 0 })
  attempts!: number;

  /**
   * When the next try is due (the wall clock of the instance that wrote it); while a try is
   * in flight, when it counts as lost (its instance died) and the row is due again. In ms
   * (MySQL's datetime(3)): a backoff of less than a second is one.
   */
  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3 })
  nextAttemptAt!: Date;

  /** When it was queued: tries stop once it is older than the sender's limit (24 h). */
  @Column({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;
}
