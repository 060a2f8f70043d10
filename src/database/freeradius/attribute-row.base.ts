import { Column } from 'typeorm';

/** The `id int(11) unsigned auto_increment` primary key of FreeRADIUS's per-user/group tables. */
export abstract class FreeradiusRow {
  @Column({
    name: 'id',
    type: 'int',
    width: 11,
    unsigned: true,
    primary: true,
    generated: 'increment',
  })
  id!: number;
}

/**
 * The columns that radcheck, radreply, radgroupcheck and radgroupreply share: one
 * `attribute op value` row of FreeRADIUS's sql module. Each table adds its owner column
 * (username or groupname) and its `op` default.
 */
export abstract class AttributeRow extends FreeradiusRow {
  @Column({ name: 'attribute', type: 'varchar', length: 64, default: '' })
  attribute!: string;

  @Column({ name: 'value', type: 'varchar', length: 253, default: '' })
  value!: string;
}
