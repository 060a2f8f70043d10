import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** mysql2's pool, as TypeORM's MySQL driver holds it (not part of either's typed API). */
interface Mysql2Pool {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  config?: { connectionLimit?: number };
}

/**
 * radgraph's Prometheus metrics (GET /metrics). Services count what they do here; gauges that
 * describe state (database pool, open subscriptions) are read when Prometheus scrapes.
 * Label values are bounded: a NAS is its nasname or "unknown" (never a packet's source address
 * as such, which anyone can forge), an operation its root field name.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly accountingPackets = new Counter({
    name: 'radgraph_accounting_packets_total',
    help: 'Accounting packets by NAS and result: ok (written and answered), duplicate, or the reason it was dropped (bad-authenticator, unknown-nas, malformed, rate-limited, overloaded, write-failed)',
    labelNames: ['nas', 'result'] as const,
    registers: [this.registry],
  });

  readonly ingestSeconds = new Histogram({
    name: 'radgraph_accounting_ingest_seconds',
    help: 'From an accounting packet’s arrival to its Accounting-Response, sent after the commit',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly batchPackets = new Histogram({
    name: 'radgraph_accounting_batch_packets',
    help: 'Accounting packets written per transaction (group commit)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });

  readonly changeFeedLag = new Gauge({
    name: 'radgraph_change_feed_lag_seconds',
    help: 'On the instance that reads the radacct change feed: how long it has been reading full pages of a backlog since it last caught up (0 when it has); it goes on growing while that instance cannot reach the database',
    registers: [this.registry],
  });

  readonly changeFeedLeader = new Gauge({
    name: 'radgraph_change_feed_leader',
    help: '1 on the instance that reads the radacct change feed, else 0 (also on one whose lease ran out while it could not reach the database)',
    registers: [this.registry],
  });

  readonly subscriptions = new Gauge({
    name: 'radgraph_subscriptions_open',
    help: 'Open session-event subscriptions on this instance',
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'radgraph_session_events_published_total',
    help: 'Session events this instance published',
    registers: [this.registry],
  });

  readonly eventsDelivered = new Counter({
    name: 'radgraph_session_events_delivered_total',
    help: 'Session events queued for this instance’s subscribers (one per subscriber; batched subscribers count each event of a batch)',
    registers: [this.registry],
  });

  readonly feedEventsRepeated = new Counter({
    name: 'radgraph_session_events_feed_repeats_dropped_total',
    help: 'Change-feed events this instance received again (a page published twice) and did not deliver twice',
    registers: [this.registry],
  });

  readonly coaRequests = new Counter({
    name: 'radgraph_coa_requests_total',
    help: 'RFC 5176 requests to NAS devices by request (Disconnect-Request, CoA-Request) and result (ack, nak, timeout, error)',
    labelNames: ['request', 'result'] as const,
    registers: [this.registry],
  });

  readonly disconnects = new Counter({
    name: 'radgraph_disconnects_total',
    help: 'Customer disconnects by the method that acted (coa, routeros, none) and result (ok; closed: the NAS had the session no more, and its open row was closed; failed)',
    labelNames: ['method', 'result'] as const,
    registers: [this.registry],
  });

  readonly retentionDeleted = new Counter({
    name: 'radgraph_retention_deleted_rows_total',
    help: 'Rows deleted past their retention (RADPOSTAUTH_RETENTION_DAYS, RADACCT_RETENTION_DAYS), by table',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: 'radgraph_graphql_operations_total',
    help: 'GraphQL operations by root field, type (query, mutation, subscription) and outcome (ok, or the first error code)',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(@InjectDataSource() dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'radgraph_' });
    new Gauge({
      name: 'radgraph_db_pool_connections',
      help: 'The database connection pool: connections in use, idle, and the limit (MySQL)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const pool = (dataSource.driver as unknown as { pool?: Mysql2Pool }).pool;
        if (!pool?._allConnections) return;
        const all = pool._allConnections.length;
        const idle = pool._freeConnections?.length ?? 0;
        this.set({ state: 'in_use' }, all - idle);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'limit' }, pool.config?.connectionLimit ?? 0);
      },
    });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
