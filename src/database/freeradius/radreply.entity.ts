import { Column, Entity, Index } from 'typeorm';
import { AttributeRow } from './attribute-row.base';

/** FreeRADIUS's `radreply` table (FreeRADIUS 3.2 mysql schema.sql): reply items per user. */
@Entity({ name: 'radreply' })
@Index(['username'])
export class RadReply extends AttributeRow {
  @Column({ name: 'username', type: 'varchar', length: 64, default: '' })
  username!: string;

  @Column({ name: 'op', type: 'char', length: 2, default: '=' })
  op!: string;
}
