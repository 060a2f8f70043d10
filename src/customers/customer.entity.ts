import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ProfileEntity } from '../profiles/profile.entity';

/**
 * A PPPoE customer: what FreeRADIUS has no place for. The password lives only in radcheck
 * (Cleartext-Password), never here and never in a GraphQL model.
 */
@Entity({ name: 'rg_customers' })
@Index('UQ_rg_customers_username', ['username'], { unique: true })
@Index('UQ_rg_customers_account_no', ['accountNo'], { unique: true })
@Index('IDX_rg_customers_search', ['searchText'])
@Index('IDX_rg_customers_expires_at', ['expiresAt'])
@Index('IDX_rg_customers_profile', ['profileId'])
export class CustomerEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  @Column({ name: 'account_no', type: 'varchar', length: 32 })
  accountNo!: string;

  /** The PPPoE login: radcheck.username is varchar(64). */
  @Column({ name: 'username', type: 'varchar', length: 64 })
  username!: string;

  @Column({ name: 'phone', type: 'varchar', length: 32, nullable: true })
  phone!: string | null;

  @Column({ name: 'name', type: 'varchar', length: 128, nullable: true })
  name!: string | null;

  @Column({ name: 'profile_id', type: 'int' })
  profileId!: number;

  /** ON DELETE RESTRICT: the database refuses to delete a profile customers still use. */
  @ManyToOne(() => ProfileEntity, { onDelete: 'RESTRICT', onUpdate: 'NO ACTION' })
  @JoinColumn({ name: 'profile_id', foreignKeyConstraintName: 'FK_rg_customers_profile' })
  profile?: ProfileEntity;

  @Column({ name: 'joined_at', type: 'datetime' })
  joinedAt!: Date;

  @Column({ name: 'expires_at', type: 'datetime', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'suspended', type: 'boolean', default: false })
  suspended!: boolean;

  /**
   * The balance in the currency's minor units: always the sum of the customer's ledger
   * (rg_ledger), changed only together with a ledger row, on the locked row
   * (CustomerLedgerService.post). BIGINT: a decimal string from MySQL.
   */
  @Column({ name: 'balance_minor', type: 'bigint', default: 0 })
  balanceMinor!: string;

  /**
   * What `customers(search)` scans: lower-case account no, username and the phone's digits,
   * one per line (no search term can span two). One narrow indexed column keeps a substring
   * search to a scan of one index.
   */
  @Column({ name: 'search_text', type: 'varchar', length: 160 })
  searchText!: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime' })
  updatedAt!: Date;

  /**
   * Which version of the customer this is: 1 when created, and one more with every UPDATE of
   * the row, raised by a trigger (migration CustomerVersion) whatever writes it, so radgraph
   * never writes it itself. A CSV export writes it; an import refuses a row of an older one
   * that would change the customer (customer-import.service.ts).
   */
  @Column({ name: 'version', type: 'int', default: 1, insert: false, update: false })
  version!: number;
}
