import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Who runs a periodic job now: one row per job, held by one instance until expires_at. The
 * holder renews it on a heartbeat; another instance takes it only once it has expired or was
 * given up (JobLeases), so a job's due action runs on one instance however many are up.
 */
@Entity({ name: 'rg_job_leases' })
export class JobLeaseEntity {
  @PrimaryColumn({ name: 'name', type: 'varchar', length: 64 })
  name!: string;

  /**
   * The instance holding it: host, process id and a random part (JobLeases.holder); empty once
   * given up (RELEASED).
   */
  @Column({ name: 'holder', type: 'varchar', length: 128 })
  holder!: string;

  @Column({ name: 'expires_at', type: 'datetime' })
  expiresAt!: Date;
}
