import { Column, Entity, Index } from 'typeorm';
import { AttributeRow } from './attribute-row.base';

/** FreeRADIUS's `radgroupcheck` table (FreeRADIUS 3.2 mysql schema.sql): check items per group. */
@Entity({ name: 'radgroupcheck' })
@Index(['groupname'])
export class RadGroupCheck extends AttributeRow {
  @Column({ name: 'groupname', type: 'varchar', length: 64, default: '' })
  groupname!: string;

  @Column({ name: 'op', type: 'char', length: 2, default: '==' })
  op!: string;
}
