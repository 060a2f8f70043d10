import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { leaseSql, type LeaseSql } from '../common/jobs/job-leases.service';
import { ExpiryActionKind } from './expiry-action-kind';
import { ExpiryActionEntity } from './expiry-action.entity';

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
 *   session when it got through, or gives the claim back when it did not. It can be claimed
 *   again when it failed, when its instance died in flight, or for a session begun after the
 *   one it got through for (the customer logged in again while expired).
 */
@Injectable()
export class ExpiryActions {
  private readonly insert: string;
  private readonly sql: LeaseSql;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    const ignore = dataSource.options.type === 'better-sqlite3' ? 'OR IGNORE' : 'IGNORE';
    // Only while expiresAt is still the customer's (renewed since the run read it: nothing to do).
    this.insert = `INSERT ${ignore} INTO rg_expiry_actions (customer_id, expires_at, action, acted_at)
      SELECT c.id, c.expires_at, ?, ? FROM rg_customers c WHERE c.id = ? AND c.expires_at = ?`;
    this.sql = leaseSql(dataSource);
  }

  /**
   * True for the one caller that records `action` for this expiry of the customer, while it is
   * still the customer's expiresAt: a customer renewed since (renewCustomer while the run was on
   * its way) is not reminded of the expiry they no longer have.
   */
  async claim(
    customerId: number,
    expiresAt: Date,
    action: ExpiryActionKind,
    now: Date,
  ): Promise<boolean> {
    const inserted = await this.run(this.insert, [
      action,
      this.datetime('actedAt', now),
      customerId,
      this.datetime('expiresAt', expiresAt),
    ]);
    return inserted === 1;
  }

  /**
   * True for the one caller that may disconnect the customer's open sessions up to
   * `newestSession` (a radacctid) for this expiry: none of them was disconnected for it yet,
   * and no disconnect for it is in flight. The caller then settles it (settleDisconnect).
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
         AND (radacct_id IS NULL OR radacct_id < ?)
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
   * one are done; with null, it did not, and the claim is given back (the next run tries again).
   */
  async settleDisconnect(
    customerId: number,
    expiresAt: Date,
    newestSession: string | null,
  ): Promise<void> {
    await this.run(
      `UPDATE rg_expiry_actions SET claimed_until = NULL${newestSession === null ? '' : ', radacct_id = ?'}
       WHERE customer_id = ? AND expires_at = ? AND action = ?`,
      [
        ...(newestSession === null ? [] : [Number(newestSession)]),
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
  private async run(sql: string, params: unknown[]): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = (await runner.query(sql, params, true)) as { affected?: number };
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}
