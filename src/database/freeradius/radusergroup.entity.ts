import { Column, Entity, Index } from 'typeorm';
import { FreeradiusRow } from './attribute-row.base';

/** FreeRADIUS's `radusergroup` table (FreeRADIUS 3.2 mysql schema.sql): user to group. */
@Entity({ name: 'radusergroup' })
@Index(['username'])
export class RadUserGroup extends FreeradiusRow {
  @Column({ name: 'username', type: 'varchar', length: 64, default: '' })
  username!: string;

  @Column({ name: 'groupname', type: 'varchar', length: 64, default: '' })
  groupname!: string;

  @Column({ name: 'priority', type: 'int', default: 1 })
  priority!: number;
}
