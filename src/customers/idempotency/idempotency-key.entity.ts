import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { CustomerEntity } from '../customer.entity';

/**
 * A billing mutation done under an idempotencyKey (creditCustomer, renewCustomer), written in
 * the transaction of its ledger row: a retry with the same key is answered from here and
 * writes nothing. The unique key_hash settles two at once. Kept for IDEMPOTENCY_RETENTION_MS
 * (24 h), then pruned (BillingIdempotency).
 */
@Entity({ name: 'rg_idempotency_keys' })
@Index('UQ_rg_idempotency_keys_key_hash', ['keyHash'], { unique: true })
@Index('IDX_rg_idempotency_keys_customer', ['customerId'])
@Index('IDX_rg_idempotency_keys_created', ['createdAt'])
export class IdempotencyKeyEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  /** Hex SHA-256 of the key: exact (no collation folds it), whatever the key's characters. */
  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash!: string;

  /** The mutation: 'creditCustomer' or 'renewCustomer'. */
  @Column({ name: 'operation', type: 'varchar', length: 32 })
  operation!: string;

  @Column({ name: 'customer_id', type: 'int' })
  customerId!: number;

  /** Goes with its customer (deleteCustomer), as the ledger does. */
  @ManyToOne(() => CustomerEntity, { onDelete: 'CASCADE', onUpdate: 'NO ACTION' })
  @JoinColumn({
    name: 'customer_id',
    foreignKeyConstraintName: 'FK_rg_idempotency_keys_customer',
  })
  customer?: CustomerEntity;

  /** Hex SHA-256 of the request's arguments: the same key with others is refused. */
  @Column({ name: 'request_hash', type: 'char', length: 64 })
  requestHash!: string;

  /** The rg_ledger row the request wrote; null when it wrote none (a free renewal). */
  @Column({ name: 'ledger_entry_id', type: 'int', nullable: true })
  ledgerEntryId!: number | null;

  /** radgraph's clock (Clock), which the retention is counted by. */
  @Column({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;
}
