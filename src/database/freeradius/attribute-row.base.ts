import { Column } from 'typeorm';

/**
 * The columns that radcheck, radreply, radgroupcheck and radgroupreply share: one
 * `attribute op value` row of FreeRADIUS's sql module. Each table adds its owner column
 * (username or groupname) and its `op` default.
 */
export abstract class AttributeRow {
  @Column({
    name: 'id',
    type: 'int',
    width: 11,
    unsigned: true,
    primary: true,
    generated: 'increment',
  })
  id!: number;

  @Column({ name: 'attribute', type: 'varchar', length: 64, default: '' })
  attribute!: string;

  @Column({ name: 'value', type: 'varchar', length: 253, default: '' })
  value!: string;
}
