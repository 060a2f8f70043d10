import { Column, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** FreeRADIUS's `radpostauth` table (FreeRADIUS 3.2 mysql schema.sql): the authentication log. */
@Entity({ name: 'radpostauth' })
@Index(['username'])
@Index(['class'])
export class RadPostAuth {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' })
  id!: number;

  @Column({ name: 'username', type: 'varchar', length: 64, default: '' })
  username!: string;

  @Column({ name: 'pass', type: 'varchar', length: 64, default: '' })
  pass!: string;

  @Column({ name: 'reply', type: 'varchar', length: 32, default: '' })
  reply!: string;

  /** timestamp(6) DEFAULT/ON UPDATE CURRENT_TIMESTAMP(6) on MySQL; datetime('now') on SQLite. */
  @UpdateDateColumn({ name: 'authdate', type: 'timestamp', precision: 6 })
  authdate!: Date;

  @Column({ name: 'class', type: 'varchar', length: 64, nullable: true })
  class!: string | null;
}
