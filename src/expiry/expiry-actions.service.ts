import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ExpiryActionKind } from './expiry-action-kind';
import { ExpiryActionEntity } from './expiry-action.entity';

/**
 * The once-only part of the expiry job: before acting on an expiry, the job claims its row
 * (customer, expiresAt, action) with INSERT IGNORE; the primary key lets exactly one caller
 * in, whichever instance it runs on and however runs overlap.
 */
@Injectable()
export class ExpiryActions {
  private readonly insert: string;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    const ignore = dataSource.options.type === 'better-sqlite3' ? 'OR IGNORE' : 'IGNORE';
    this.insert = `INSERT ${ignore} INTO rg_expiry_actions (customer_id, expires_at, action, acted_at) VALUES (?, ?, ?, ?)`;
  }

  /** True for the one caller that records `action` for this expiry of the customer. */
  async claim(
    customerId: number,
    expiresAt: Date,
    action: ExpiryActionKind,
    now: Date,
  ): Promise<boolean> {
    // Dates as the driver writes them through the entity, so a claim matches its own kind.
    const meta = this.dataSource.getMetadata(ExpiryActionEntity);
    const datetime = (property: string, value: Date): unknown =>
      this.dataSource.driver.preparePersistentValue(
        value,
        meta.findColumnWithPropertyName(property)!,
      );
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = (await runner.query(
        this.insert,
        [customerId, datetime('expiresAt', expiresAt), action, datetime('actedAt', now)],
        true,
      )) as { affected?: number };
      return result.affected === 1;
    } finally {
      await runner.release();
    }
  }
}
