import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { CustomerEntity } from './customer.entity';
import { LedgerKind } from './ledger-kind';

/**
 * One change of a customer's balance. Rows are only ever added, each in the transaction
 * that moves rg_customers.balance_minor to balance_after_minor, so the balance is always the
 * sum of the customer's rows. Amounts are in the currency's minor units (BIGINT: decimal
 * strings from MySQL).
 */
@Entity({ name: 'rg_ledger' })
@Index('IDX_rg_ledger_customer', ['customerId', 'id'])
export class LedgerEntryEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  @Column({ name: 'customer_id', type: 'int' })
  customerId!: number;

  /** The ledger goes with its customer (deleteCustomer); radacct history stays. */
  @ManyToOne(() => CustomerEntity, { onDelete: 'CASCADE', onUpdate: 'NO ACTION' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'FK_rg_ledger_customer' })
  customer?: CustomerEntity;

  /** Signed: a credit adds, a renewal takes away. */
  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor!: string;

  @Column({ name: 'balance_after_minor', type: 'bigint' })
  balanceAfterMinor!: string;

  @Column({ name: 'kind', type: 'varchar', length: 16 })
  kind!: LedgerKind;

  /** The reason: the note given with a payment, or what a renewal bought. */
  @Column({ name: 'note', type: 'varchar', length: 500, nullable: true })
  note!: string | null;

  /** Who did it: the API key or token's name. */
  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;
}
