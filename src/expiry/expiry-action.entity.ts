import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CustomerEntity } from '../customers/customer.entity';
import type { ExpiryActionKind } from './expiry-action-kind';

/**
 * What the expiry job did about one expiry of one customer: a row per (customer, expiresAt,
 * action), claimed before acting, so each action happens once (on one instance), and a
 * customer renewed to a later expiresAt is handled again. A reminder is done once its row is
 * there; a disconnect holds the newest session it got through for (radacctId), and is claimed
 * again when it failed, for a session begun after it, or for one of its sessions still alive
 * well after it (aliveAfter; ExpiryActions).
 */
@Entity({ name: 'rg_expiry_actions' })
export class ExpiryActionEntity {
  @PrimaryColumn({ name: 'customer_id', type: 'int' })
  customerId!: number;

  /** The customer's expiresAt this action was about. */
  @PrimaryColumn({ name: 'expires_at', type: 'datetime' })
  expiresAt!: Date;

  @PrimaryColumn({ name: 'action', type: 'varchar', length: 16 })
  action!: ExpiryActionKind;

  @Column({ name: 'acted_at', type: 'datetime' })
  actedAt!: Date;

  /**
   * A disconnect: the newest radacct row (radacctid) of the customer's open sessions when it got
   * through; null until one did. A session with a higher radacctid is disconnected again.
   */
  @Column({ name: 'radacct_id', type: 'bigint', nullable: true })
  radacctId!: string | null;

  /**
   * A disconnect that got through: when it did plus DISCONNECT_GRACE_MS, by the database's
   * clock in the form radacct.rg_seen_at takes (so the two compare as they are). An open
   * session up to radacctId with an accounting change (rg_seen_at) after this is still alive,
   * and is disconnected again. Null until one got through.
   */
  @Column({ name: 'alive_after', type: 'datetime', nullable: true })
  aliveAfter!: Date | null;

  /**
   * A disconnect in flight: claimed until then (the database's clock). Cleared when it is over;
   * one whose instance died before it was over is claimed again once this has passed.
   */
  @Column({ name: 'claimed_until', type: 'datetime', nullable: true })
  claimedUntil!: Date | null;

  /** The rows go with their customer (deleteCustomer). */
  @ManyToOne(() => CustomerEntity, { onDelete: 'CASCADE', onUpdate: 'NO ACTION' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'FK_rg_expiry_actions_customer' })
  customer?: CustomerEntity;
}
