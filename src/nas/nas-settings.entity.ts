import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { NasRow } from '../database/freeradius';

/**
 * radgraph's settings of a NAS that FreeRADIUS's nas table has no column for: the RFC 5176
 * CoA port and the RouterOS API. One row per nas row, removed with it.
 */
@Entity({ name: 'rg_nas_settings' })
export class NasSettingsEntity {
  @PrimaryColumn({ name: 'nas_id', type: 'int' })
  nasId!: number;

  @ManyToOne(() => NasRow, { onDelete: 'CASCADE', onUpdate: 'NO ACTION' })
  @JoinColumn({ name: 'nas_id', foreignKeyConstraintName: 'FK_rg_nas_settings_nas' })
  nas?: NasRow;

  @Column({ name: 'coa_port', type: 'int', default: 3799 })
  coaPort!: number;

  /** The RouterOS API; null host: the NAS has no API settings. */
  @Column({ name: 'api_host', type: 'varchar', length: 253, nullable: true })
  apiHost!: string | null;

  @Column({ name: 'api_port', type: 'int', nullable: true })
  apiPort!: number | null;

  @Column({ name: 'api_user', type: 'varchar', length: 64, nullable: true })
  apiUser!: string | null;

  /** Encrypted (secret-box.ts), never the password itself; write-only through the API. */
  @Column({ name: 'api_password', type: 'varchar', length: 512, nullable: true })
  apiPassword!: string | null;

  @Column({ name: 'api_tls', type: 'boolean', default: false })
  apiTls!: boolean;

  /** With TLS, check the router's certificate; false accepts RouterOS's self-signed one. */
  @Column({ name: 'api_tls_verify', type: 'boolean', default: true })
  apiTlsVerify!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime' })
  updatedAt!: Date;
}
