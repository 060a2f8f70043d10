import { Column, Entity, Index } from 'typeorm';

/** One change to radacct by a writer other than radgraph, queued for the change feed. */
@Entity({ name: 'rg_radacct_changes' })
// A row's changes, for the feed's look-up of later ones (RadacctChangesByRow1765674000000).
@Index('IDX_rg_radacct_changes_row', ['radAcctId', 'kind'])
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
