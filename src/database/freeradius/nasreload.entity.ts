import { Column, Entity, PrimaryColumn } from 'typeorm';

/** FreeRADIUS's `nasreload` table (FreeRADIUS 3.2 mysql schema.sql). */
@Entity({ name: 'nasreload' })
export class NasReload {
  @PrimaryColumn({ name: 'nasipaddress', type: 'varchar', length: 15 })
  nasIpAddress!: string;

  @Column({ name: 'reloadtime', type: 'datetime' })
  reloadTime!: Date;
}
