import { Column, Entity, Index } from 'typeorm';

/**
 * FreeRADIUS's `nas` table (FreeRADIUS 3.2 mysql schema.sql). FreeRADIUS reads its clients
 * from it (read_clients = yes): nasname is the address it matches a packet's source on.
 */
@Entity({ name: 'nas' })
@Index(['nasname'])
export class NasRow {
  @Column({ name: 'id', type: 'int', width: 10, primary: true, generated: 'increment' })
  id!: number;

  @Column({ name: 'nasname', type: 'varchar', length: 128 })
  nasname!: string;

  @Column({ name: 'shortname', type: 'varchar', length: 32, nullable: true })
  shortname!: string | null;

  @Column({ name: 'type', type: 'varchar', length: 30, nullable: true, default: 'other' })
  type!: string | null;

  @Column({ name: 'ports', type: 'int', width: 5, nullable: true })
  ports!: number | null;

  /** The RADIUS shared secret: write-only through the API, never logged. */
  @Column({ name: 'secret', type: 'varchar', length: 60, default: 'secret' })
  secret!: string;

  @Column({ name: 'server', type: 'varchar', length: 64, nullable: true })
  server!: string | null;

  @Column({ name: 'community', type: 'varchar', length: 50, nullable: true })
  community!: string | null;

  @Column({
    name: 'description',
    type: 'varchar',
    length: 200,
    nullable: true,
    default: 'RADIUS Client',
  })
  description!: string | null;
}
