import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from '../principal';

/**
 * An API key. Only the SHA-256 of the key is kept: the key itself is shown once, when it is
 * made, and can never be read back. `prefix` (the key's first characters) tells keys apart
 * in lists.
 */
@Entity({ name: 'rg_api_keys' })
@Index('UQ_rg_api_keys_name', ['name'], { unique: true })
@Index('UQ_rg_api_keys_key_hash', ['keyHash'], { unique: true })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  @Column({ name: 'name', type: 'varchar', length: 64 })
  name!: string;

  @Column({ name: 'role', type: 'varchar', length: 16 })
  role!: Role;

  /** Hex SHA-256 of the whole key. */
  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash!: string;

  @Column({ name: 'prefix', type: 'varchar', length: 16 })
  prefix!: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime' })
  createdAt!: Date;

  /** Updated at most once a minute per key. */
  @Column({ name: 'last_used_at', type: 'datetime', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'datetime', nullable: true })
  revokedAt!: Date | null;
}
