import type { DataSource } from 'typeorm';
import { JobLeases } from '../../src/common/jobs/job-leases.service';
import { TransactionsService } from '../../src/database/transactions.service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * A lease is renewed every 2 s whatever else the instance does: on SQLite, whose callers share
 * one connection, a renewal made while another caller's transaction is open went into that
 * transaction, and its rollback undid it (the instance went on counting the lease as its own,
 * while the database said it had run out, for another instance to take).
 */
describe.each(['mysql', 'sqlite'] as const)('job leases beside transactions, on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = await db.openDataSource();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it("keeps a lease taken while another caller's transaction is open, which then rolls back", async () => {
    const transactions = new TransactionsService(ds);
    const leases = new JobLeases(ds, transactions);
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const failing = transactions.run(async (m) => {
      await m.query('SELECT 1');
      opened();
      await gate;
      throw new Error('rolled back');
    });
    await open;
    const taking = leases.acquire('beside-a-transaction', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the write is sent meanwhile
    finish();
    await expect(failing).rejects.toThrow('rolled back');
    expect(await taking).toBe(true);
    expect(await leases.holderOf('beside-a-transaction')).toBe(leases.holder);
  });
});
