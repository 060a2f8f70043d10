import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The current month by radgraph's clock, one row (id 1), for FreeRADIUS's data-cap check
 * (radius-config/sites-available/radgraph): the month whose usage counts against the cap.
 * radgraph keeps it (DataCapEnforcer); FreeRADIUS falls back to the database's UTC month.
 */
@Entity({ name: 'rg_usage_period' })
export class UsagePeriodEntity {
  @PrimaryColumn({ name: 'id', type: 'int' })
  id!: number;

  @Column({ name: 'month', type: 'char', length: 7 })
  month!: string;
}
