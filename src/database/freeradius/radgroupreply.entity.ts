import { Column, Entity, Index } from 'typeorm';
import { AttributeRow } from './attribute-row.base';

/** FreeRADIUS's `radgroupreply` table (FreeRADIUS 3.2 mysql schema.sql): reply items per group: a radgraph profile's rate limit and interim interval. */
@Entity({ name: 'radgroupreply' })
@Index(['groupname'])
export class RadGroupReply extends AttributeRow {
  @Column({ name: 'groupname', type: 'varchar', length: 64, default: '' })
  groupname!: string;

  @Column({ name: 'op', type: 'char', length: 2, default: '=' })
  op!: string;
}
