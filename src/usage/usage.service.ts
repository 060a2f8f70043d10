import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { BadUserInputError } from '../common/errors/app-error';
import { CapActionEntity } from './cap-action.entity';
import { UsageMonthEntity } from './usage-month.entity';
import { usernameKey } from '../sessions/usernames';

export interface MonthUsage {
  month: string;
  uploadBytes: bigint;
  downloadBytes: bigint;
  /** The data cap's action of the month ('fup' or 'disconnect'), if any. */
  capAction: { action: string; actedAt: Date } | null;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
export const MAX_HISTORY_MONTHS = 120;

/** Reads the monthly usage rollup (kept by the database: usage-triggers.ts). */
@Injectable()
export class UsageService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** "YYYY-MM" from the API, or the current month when absent. */
  month(field: string, value: string | null | undefined): string {
    if (value === null || value === undefined) return this.clock.month();
    if (!MONTH.test(value)) {
      throw new BadUserInputError(field, `${field} must be a month written YYYY-MM, e.g. 2026-11`);
    }
    return value;
  }

  /** The `count` months up to the current one, newest first. */
  lastMonths(field: string, count: number): string[] {
    if (!Number.isInteger(count) || count < 1 || count > MAX_HISTORY_MONTHS) {
      throw new BadUserInputError(
        field,
        `${field} must be a whole number from 1 to ${MAX_HISTORY_MONTHS}`,
      );
    }
    const now = this.clock.now();
    return Array.from({ length: count }, (_, i) =>
      this.clock.month(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1))),
    );
  }

  /** Usage of each (username, month), zero where nothing was used, and the cap's action. */
  async of(
    keys: ReadonlyArray<{ username: string; month: string }>,
  ): Promise<Map<string, MonthUsage>> {
    const out = new Map<string, MonthUsage>();
    if (keys.length === 0) return out;
    const where = {
      username: In([...new Set(keys.map((k) => k.username))]),
      month: In([...new Set(keys.map((k) => k.month))]),
    };
    const [rows, actions] = await Promise.all([
      this.dataSource.getRepository(UsageMonthEntity).findBy(where),
      this.dataSource.getRepository(CapActionEntity).findBy(where),
    ]);
    // As the database matched the names (usernameKey): on MariaDB the rollup may hold the login
    // in another case than the customer's, as radacct has it; on SQLite "twin" and "TWIN" are
    // two customers, each with its own usage.
    const user = usernameKey(this.dataSource);
    const keyed = (username: string, month: string) => usageKey(user(username), month);
    const found = new Map(rows.map((r) => [keyed(r.username, r.month), r]));
    const acted = new Map(actions.map((a) => [keyed(a.username, a.month), a]));
    for (const { username, month } of keys) {
      const row = found.get(keyed(username, month));
      const action = acted.get(keyed(username, month));
      out.set(usageKey(username, month), {
        month,
        uploadBytes: BigInt(row?.uploadBytes ?? 0),
        downloadBytes: BigInt(row?.downloadBytes ?? 0),
        capAction: action ? { action: action.action, actedAt: action.actedAt } : null,
      });
    }
    return out;
  }
}

export const usageKey = (username: string, month: string) => `${month}\u0000${username}`;

/** The username and month a usageKey was made of. */
export function usageKeyParts(key: string): { username: string; month: string } {
  const [month, username] = key.split('\u0000');
  return { month, username };
}
