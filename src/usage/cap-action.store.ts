import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TransactionsService } from '../database/transactions.service';
import type { PlanTarget } from '../nas/control/session-control.service';
import { rateLimit } from '../profiles/profile-rules';
import { readSqlDatetime } from '../common/sql/datetime';
import { inChunks, placeholders } from '../common/sql/in-list';

/** Users per query, at most (SQLite allows 32,766 parameters). */
const CHECK_CHUNK = 1_000;

export interface OverCap {
  username: string;
  fupRate: string | null;
  /** When this month's disconnect was taken, if the user has one and an open session. */
  disconnectedAt: Date | null;
}

/** A customer throttled last month who is online (CapActionStore.throttledBefore). */
export interface LastMonthThrottle {
  username: string;
  up: number;
  down: number;
}

/** A cap action of this month, of a customer on a plan that changed (CapActionStore.ofPlan). */
export interface PlanCapAction {
  username: string;
  action: string;
  up: number;
  down: number;
  online: number | string;
}

/**
 * The data cap's rows in rg_cap_actions, and what it reads with them (usage, plans, open
 * sessions). A row is a claim: each write says whether this caller got it (affected rows), so
 * one instance acts on a crossing, disconnects again, or lifts a throttle. The month and times
 * come from the caller (DataCapEnforcer, CapResets), read when it claims.
 */
@Injectable()
export class CapActionStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionsService,
  ) {}

  /** True for the one caller that records this month's action for the user, taken `at`. */
  async claim(username: string, month: string, action: string, at: string): Promise<boolean> {
    const ignore = this.dataSource.options.type === 'better-sqlite3' ? 'OR IGNORE' : 'IGNORE';
    const changed = await this.affected(
      `INSERT ${ignore} INTO rg_cap_actions (username, month, action, acted_at) VALUES (?, ?, ?, ?)`,
      [username, month, action, at],
    );
    return changed === 1;
  }

  /**
   * Moves the acted_at of the user's disconnect of `month` from `from` to `to` (when it is
   * `older` than `from`, else only when it is `from`); the rows changed (DataCapEnforcer's
   * disconnect again claims it, and gives it back).
   */
  moveActedAt(
    username: string,
    month: string,
    from: string,
    to: string,
    older: boolean,
  ): Promise<number> {
    return this.affected(
      `UPDATE rg_cap_actions SET acted_at = ? WHERE username = ? AND month = ? AND action = 'disconnect' AND acted_at ${older ? '<' : '='} ?`,
      [to, username, month, from],
    );
  }

  /**
   * Gives back the user's cap action of `month` (only if it is `action`, when given); true when
   * there was one. Its claim is free again: the next check acts anew.
   */
  async giveBack(username: string, month: string, action?: string): Promise<boolean> {
    const sql = 'DELETE FROM rg_cap_actions WHERE username = ? AND month = ?';
    const changed = await this.affected(
      action === undefined ? sql : `${sql} AND action = ?`,
      action === undefined ? [username, month] : [username, month, action],
    );
    return changed > 0;
  }

  /**
   * Claims the lift of a throttle (true for the one caller that sets lifted_at), or gives it back
   * (`at` null).
   */
  async claimLift(username: string, month: string, at: string | null): Promise<boolean> {
    const changed = await this.affected(
      `UPDATE rg_cap_actions SET lifted_at = ? WHERE username = ? AND month = ? AND action = 'fup' AND lifted_at IS ${at === null ? 'NOT NULL' : 'NULL'}`,
      [at, username, month],
    );
    return changed === 1;
  }

  /** Those of `usernames` throttled to their FUP rate in `month` (as rg_cap_actions has them). */
  async throttled(usernames: readonly string[], month: string): Promise<string[]> {
    const rows = await inChunks(
      usernames,
      (chunk) =>
        this.transactions.alone<Array<{ username: string }>>((m) =>
          m.query(
            `SELECT username FROM rg_cap_actions WHERE month = ? AND action = 'fup' AND username IN (${placeholders(chunk.length)})`,
            [month, ...chunk],
          ),
        ),
      CHECK_CHUNK,
    );
    return rows.map((r) => r.username);
  }

  /**
   * The FUP throttles of `last` month not lifted yet, of customers online and not acted on in
   * `month`, with their profile's own speeds.
   */
  throttledBefore(last: string, month: string): Promise<LastMonthThrottle[]> {
    return this.transactions.alone((m) =>
      m.query(
        `SELECT a.username AS username, p.upload_rate_kbps AS up, p.download_rate_kbps AS down
         FROM rg_cap_actions a
         JOIN rg_customers c ON c.username = a.username
         JOIN rg_profiles p ON p.id = c.profile_id
         WHERE a.month = ? AND a.action = 'fup' AND a.lifted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM rg_cap_actions n WHERE n.username = a.username AND n.month = ?)
           AND EXISTS (SELECT 1 FROM radacct r WHERE r.acctstoptime IS NULL AND r.username = a.username)`,
        [last, month],
      ),
    );
  }

  /**
   * The cap actions of `month` of the target's customers (one customer, or a plan's), with the
   * plan's speeds and whether the customer is online.
   */
  ofPlan(target: PlanTarget, month: string): Promise<PlanCapAction[]> {
    return this.transactions.alone((m) =>
      m.query(
        `SELECT a.username AS username, a.action AS action,
           p.upload_rate_kbps AS up, p.download_rate_kbps AS down,
           EXISTS (SELECT 1 FROM radacct r WHERE r.acctstoptime IS NULL AND r.username = a.username) AS online
         FROM rg_cap_actions a
         JOIN rg_customers c ON c.username = a.username
         JOIN rg_profiles p ON p.id = c.profile_id
         WHERE a.month = ? AND ${'username' in target ? 'a.username' : 'p.name'} = ?`,
        [month, 'username' in target ? target.username : target.groupname],
      ),
    );
  }

  /** Capped customers among `usernames` whose usage in `month` reached the limit. */
  async overCap(usernames: readonly string[], month: string): Promise<OverCap[]> {
    // Users gathered while a slow check ran can be many: a bounded IN list each query.
    return inChunks(usernames, (chunk) => this.overCapOf(chunk, month), CHECK_CHUNK);
  }

  private async overCapOf(usernames: readonly string[], month: string): Promise<OverCap[]> {
    if (usernames.length === 0) return [];
    const rows: Array<{
      username: string;
      fupUp: number | null;
      fupDown: number | null;
      disconnectedAt?: Date | string | null;
    }> = await this.transactions.alone((m) =>
      m.query(
        // With this month's disconnect, if any, of a user still online (see disconnectAgain).
        `SELECT c.username AS username, p.fup_upload_rate_kbps AS fupUp, p.fup_download_rate_kbps AS fupDown,
           a.acted_at AS disconnectedAt
       FROM rg_customers c
       JOIN rg_profiles p ON p.id = c.profile_id
       JOIN rg_usage_monthly u ON u.username = c.username AND u.month = ?
       LEFT JOIN rg_cap_actions a ON a.username = c.username AND a.month = u.month
         AND a.action = 'disconnect'
         AND EXISTS (SELECT 1 FROM radacct r WHERE r.acctstoptime IS NULL AND r.username = c.username)
       WHERE c.username IN (${placeholders(usernames.length)})
         AND p.data_limit_bytes IS NOT NULL
         AND CAST(u.upload_bytes AS DECIMAL(20, 0)) + u.download_bytes >= p.data_limit_bytes`,
        [month, ...usernames],
      ),
    );
    return rows.map((r) => ({
      username: r.username,
      fupRate: r.fupUp && r.fupDown ? rateLimit(r.fupUp, r.fupDown) : null,
      disconnectedAt: r.disconnectedAt ? readSqlDatetime(r.disconnectedAt) : null,
    }));
  }

  /**
   * Runs one write to rg_cap_actions in a transaction of its own (TransactionsService: on SQLite
   * not inside another caller's, whose rollback would undo it) and says how many rows it changed,
   * which decides who holds a claim.
   */
  private affected(sql: string, params: unknown[]): Promise<number> {
    return this.transactions.run(async (m) => {
      const result = await m.queryRunner!.query(sql, params, true);
      return (result as { affected?: number }).affected ?? 0;
    });
  }
}
