import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CustomerEntity } from '../customers/customer.entity';
import type { ExpiryActionKind } from './expiry-action-kind';

/**
 * What the expiry job did about one expiry of one customer: a row per (customer, expiresAt,
 * action), claimed before acting, so each action happens once (on one instance), and a
 * customer renewed to a later expiresAt is handled again.
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

  /** The rows go with their customer (deleteCustomer). */
  @ManyToOne(() => CustomerEntity, { onDelete: 'CASCADE', onUpdate: 'NO ACTION' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'FK_rg_expiry_actions_customer' })
  customer?: CustomerEntity;
}
