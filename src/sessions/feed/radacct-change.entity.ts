import { Column, Entity } from 'typeorm';

/** One change to radacct by a writer other than radgraph, queued for the change feed. */
@Entity({ name: 'rg_radacct_changes' })
export class RadacctChange {
  @Column({ name: 'seq', type: 'bigint', primary: true, generated: 'increment' })
  seq!: string;

  @Column({ name: 'radacctid', type: 'bigint' })
  radAcctId!: string;

  /**
   * 1 started, 2 updated, 3 stopped, 4 a row closed as stale changed, 5 a Start put a new
   * session in a row (radacct-change-triggers.ts).
   */
  @Column({ name: 'kind', type: 'tinyint' })
  kind!: number;
}
