import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { leaseSql, type LeaseSql } from '../common/jobs/job-leases.service';
import { affectedRows, affectedRowsIn } from '../database/bulk-writes';
import { ExpiryActionKind } from './expiry-action-kind';
import { ExpiryActionEntity } from './expiry-action.entity';
import { aliveAfterSql, stillAliveSql } from './still-alive';

/**
 * How long a disconnect in flight keeps its claim: far longer than the CoA tries and the RouterOS
 * fallback take, so one instance sends it; an instance that died (or was killed) after claiming
 * holds it no longer than this, and the next run sends it.
 */
export const DISCONNECT_CLAIM_MS = 5 * 60_000;

/**
 * The once-only part of the expiry job. Before acting on an expiry, the job claims its row
 * (customer, expiresAt, action); the primary key and the conditions of the claim let exactly
 * one caller in, whichever instance it runs on and however runs overlap.
 * - A reminder is claimed once (INSERT IGNORE), for good.
 * - A disconnect is claimed for a while (claimed_until, the database's clock), for the
 *   customer's open sessions up to the newest; `settleDisconnect` then records that newest
 *   session when it got through, with the time after which its sessions count as still alive
 *   (alive_after: then plus DISCONNECT_GRACE_MS, by the database's clock), or gives the claim
 *   back when it did not. It can be claimed again when it failed, when its instance died in
 *   flight, for a session begun after the one it got through for (the customer logged in
 *   again while expired), or for one of its sessions still open with an accounting change
 *   (radacct.rg_seen_at) after alive_after: the NAS acknowledged but kept the session, or
 *   answered 503 and the row closed as Stale-Session was reopened by its next Interim-Update.
 *   rg_seen_at is the database's clock, so alive_after is too, never this instance's (nor the
 *   injectable Clock): a skewed host cannot hide a live session, or see one too early.
 */
@Injectable()
export class ExpiryActions {
  private readonly insert: string;
  private readonly sql: LeaseSql;
  private readonly aliveAfter: { sql: string; param: unknown };

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.aliveAfter = aliveAfterSql(dataSource);
    const ignore = dataSource.options.type === 'better-sqlite3' ? 'OR IGNORE' : 'IGNORE';
    // Only while expiresAt is still the customer's (renewed since the run read it: nothing to do).
    this.insert = `INSERT ${ignore} INTO rg_expiry_actions (customer_id, expires_at, action, acted_at)
      SELECT c.id, c.expires_at, ?, ? FROM rg_customers c WHERE c.id = ? AND c.expires_at = ?`;
    this.sql = leaseSql(dataSource);
  }

  /**
   * True for the one caller that records `action` for this expiry of the customer, while it is
   * still the customer's expiresAt: a customer renewed since (renewCustomer while the run was on
   * its way) is not reminded of the expiry they no longer have. With `m`, in its transaction.
   */
  async claim(
    customerId: number,
    expiresAt: Date,
    action: ExpiryActionKind,
    now: Date,
    m?: EntityManager,
  ): Promise<boolean> {
    const params = [
      action,
      this.datetime('actedAt', now),
      customerId,
      this.datetime('expiresAt', expiresAt),
    ];
    const inserted = m
      ? await affectedRowsIn(m, this.insert, params)
      : await this.run(this.insert, params);
    return inserted === 1;
  }

  /**
   * True for the one caller that may disconnect the customer's open sessions up to
   * `newestSession` (a radacctid) for this expiry: one of them was not disconnected for it yet
   * (none was; or one begun after the last disconnect), or is still alive after it (an
   * accounting change later than alive_after), and no disconnect for it is in flight. The
   * caller then settles it (settleDisconnect), which moves alive_after on: one caller per
   * change.
   * Only while `expiresAt` is still the customer's: one renewed since the run read it (an
   * operator's renewCustomer while the run was on its way) is not claimed, so not disconnected.
   */
  async claimDisconnect(
    customerId: number,
    expiresAt: Date,
    newestSession: string,
    now: Date,
  ): Promise<boolean> {
    const { now: dbNow, until, ttl } = this.sql;
    const at = this.datetime('expiresAt', expiresAt);
    await this.claim(customerId, expiresAt, ExpiryActionKind.DISCONNECT, now);
    const claimed = await this.run(
      `UPDATE rg_expiry_actions SET claimed_until = ${until}, acted_at = ?
       WHERE customer_id = ? AND expires_at = ? AND action = ?
         AND (radacct_id IS NULL OR radacct_id < ?
           OR EXISTS (SELECT 1 FROM rg_customers c JOIN radacct a ON a.username = c.username
             WHERE c.id = rg_expiry_actions.customer_id AND a.acctstoptime IS NULL
               AND ${stillAliveSql('rg_expiry_actions', 'a')}))
         AND (claimed_until IS NULL OR claimed_until < ${dbNow})
         AND EXISTS (SELECT 1 FROM rg_customers c
           WHERE c.id = rg_expiry_actions.customer_id AND c.expires_at = rg_expiry_actions.expires_at)`,
      [
        ttl(DISCONNECT_CLAIM_MS),
        this.datetime('actedAt', now),
        customerId,
        at,
        ExpiryActionKind.DISCONNECT,
        Number(newestSession),
      ],
    );
    return claimed === 1;
  }

  /**
   * Ends a claimed disconnect: with `newestSession`, it got through, and the sessions up to that
   * one are done unless still alive after the grace from now (alive_after); with null, it did
   * not, and the claim is given back (the next run tries again). radacct_id never goes down: a
   * disconnect again of an older session still alive keeps the newer ones done.
   */
  async settleDisconnect(
    customerId: number,
    expiresAt: Date,
    newestSession: string | null,
  ): Promise<void> {
    const done =
      ', radacct_id = CASE WHEN radacct_id IS NULL OR radacct_id < ? THEN ? ELSE radacct_id END' +
      `, alive_after = ${this.aliveAfter.sql}`;
    await this.run(
      `UPDATE rg_expiry_actions SET claimed_until = NULL${newestSession === null ? '' : done}
       WHERE customer_id = ? AND expires_at = ? AND action = ?`,
      [
        ...(newestSession === null
          ? []
          : [Number(newestSession), Number(newestSession), this.aliveAfter.param]),
        customerId,
        this.datetime('expiresAt', expiresAt),
        ExpiryActionKind.DISCONNECT,
      ],
    );
  }

  /** A date as the driver writes it through the entity, so a claim matches its own kind. */
  private datetime(property: 'expiresAt' | 'actedAt', value: Date): unknown {
    const meta = this.dataSource.getMetadata(ExpiryActionEntity);
    return this.dataSource.driver.preparePersistentValue(
      value,
      meta.findColumnWithPropertyName(property)!,
    );
  }

  /** Runs a write; returns the rows it changed. */
  private run(sql: string, params: unknown[]): Promise<number> {
    return affectedRows(this.dataSource, sql, params);
  }
}
