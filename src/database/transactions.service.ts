import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

/**
 * Runs a unit of work in one database transaction: every change to radgraph's tables and to
 * FreeRADIUS's commits together or not at all, so FreeRADIUS never sees half of a change.
 *
 * TypeORM's SQLite drivers share one connection (one query runner) between all callers, so
 * two overlapping transactions would nest into each other's savepoints. On SQLite the work
 * is therefore queued, one transaction at a time; on MySQL each gets its own connection.
 */
@Injectable()
export class TransactionsService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly serialize: boolean;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serialize = dataSource.options.type === 'better-sqlite3';
  }

  /** `isolation` applies on MySQL (SQLite transactions are serializable anyway). */
  run<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    if (!this.serialize) {
      return isolation
        ? this.dataSource.transaction(isolation, work)
        : this.dataSource.transaction(work);
    }
    const result = this.queue.then(() => this.dataSource.transaction(work));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs `work` outside every other caller's transaction, for statements that need no
   * transaction of their own (a read, one write): on SQLite in the queue (its shared connection
   * would otherwise run them inside whatever transaction is open, where they see uncommitted
   * rows and are undone by its rollback), on MySQL on the pool as they are.
   */
  alone<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.serialize ? this.run(work) : work(this.dataSource.manager);
  }

  /**
   * Runs `work` between this instance's transactions, in no transaction of its own: on SQLite
   * in the queue, its statements committing each by itself; on MySQL at once. For a write that
   * another process on the same SQLite file may race (a job lease): a transaction around it
   * would keep its read lock while it waits for the other's write lock, and the two would wait
   * for each other until the busy timeout.
   */
  between<T>(work: () => Promise<T>): Promise<T> {
    if (!this.serialize) return work();
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
