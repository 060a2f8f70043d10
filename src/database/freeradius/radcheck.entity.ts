import { Column, Entity, Index } from 'typeorm';
import { AttributeRow } from './attribute-row.base';

/** FreeRADIUS's `radcheck` table (FreeRADIUS 3.2 mysql schema.sql): check items per user (password, expiration, simultaneous use). */
@Entity({ name: 'radcheck' })
@Index(['username'])
export class RadCheck extends AttributeRow {
  @Column({ name: 'username', type: 'varchar', length: 64, default: '' })
  username!: string;

  @Column({ name: 'op', type: 'char', length: 2, default: '==' })
  op!: string;
}
