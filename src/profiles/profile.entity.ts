import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * A plan. FreeRADIUS sees it as the group `name`: its radgroupreply rows carry the rate
 * limit and the interim interval (see ProfileRadiusWriter).
 */
@Entity({ name: 'rg_profiles' })
@Index('UQ_rg_profiles_name', ['name'], { unique: true })
export class ProfileEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  /** Also radusergroup.groupname / radgroupreply.groupname: varchar(64) there. */
  @Column({ name: 'name', type: 'varchar', length: 64 })
  name!: string;

  @Column({ name: 'download_rate_kbps', type: 'int' })
  downloadRateKbps!: number;

  @Column({ name: 'upload_rate_kbps', type: 'int' })
  uploadRateKbps!: number;

  /** Per calendar month; null is unlimited. A decimal string (exact 64-bit). */
  @Column({ name: 'data_limit_bytes', type: 'bigint', nullable: true })
  dataLimitBytes!: string | null;

  @Column({ name: 'validity_days', type: 'int' })
  validityDays!: number;

  /** Acct-Interim-Interval replied to the NAS, in seconds. */
  @Column({ name: 'interim_interval_seconds', type: 'int', default: 300 })
  interimIntervalSeconds!: number;

  /**
   * Fair use: the speeds once the month's data limit is used up, instead of a disconnect
   * (null: over the limit is disconnected and refused until next month).
   */
  @Column({ name: 'fup_upload_rate_kbps', type: 'int', nullable: true })
  fupUploadRateKbps!: number | null;

  @Column({ name: 'fup_download_rate_kbps', type: 'int', nullable: true })
  fupDownloadRateKbps!: number | null;

  /**
   * What a renewal costs, in the currency's minor units (cents for 2 decimals): exact
   * integers, never a float. BIGINT: a decimal string from MySQL.
   */
  @Column({ name: 'price_minor', type: 'bigint', default: 0 })
  priceMinor!: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime' })
  updatedAt!: Date;
}
