import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * What radgraph did when a customer went over the data cap, once per month: the row is
 * claimed before acting, so each crossing is acted on once, by one instance. A 'fup' throttle is
 * lifted once its month is over (CapResets.liftThrottles).
 */
@Entity({ name: 'rg_cap_actions' })
@Index('rg_cap_actions_month', ['month'])
export class CapActionEntity {
  @PrimaryColumn({ name: 'username', type: 'varchar', length: 64 })
  username!: string;

  @PrimaryColumn({ name: 'month', type: 'char', length: 7 })
  month!: string;

  /** 'disconnect' or 'fup'. */
  @Column({ name: 'action', type: 'varchar', length: 16 })
  action!: string;

  @Column({ name: 'acted_at', type: 'datetime' })
  actedAt!: Date;

  /** When the month was over and the profile's own rate went back to the sessions ('fup' only). */
  @Column({ name: 'lifted_at', type: 'datetime', nullable: true })
  liftedAt!: Date | null;
}
