import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CustomerEntity } from './customer.entity';

/**
 * The substring index of `customers(search)`: for each customer, every suffix (cut to 16
 * characters, at least 3 long) of its lower-case account no, username and phone digits. A
 * substring search for "term" is then a prefix range on `k` (`k LIKE 'term%'`) instead of a
 * scan of every customer: about 40 rows per customer, written with the customer.
 */
@Entity({ name: 'rg_customer_search_keys' })
@Index('IDX_rg_customer_search_keys_k', ['k', 'customerId'])
export class CustomerSearchKey {
  @PrimaryColumn({ name: 'customer_id', type: 'int' })
  customerId!: number;

  @PrimaryColumn({ name: 'pos', type: 'smallint' })
  pos!: number;

  @Column({ name: 'k', type: 'varchar', length: 16 })
  k!: string;

  @ManyToOne(() => CustomerEntity, { onDelete: 'CASCADE', onUpdate: 'NO ACTION' })
  @JoinColumn({
    name: 'customer_id',
    foreignKeyConstraintName: 'FK_rg_customer_search_keys_customer',
  })
  customer?: CustomerEntity;
}
