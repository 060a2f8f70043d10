import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { CustomerExpiringBus } from '../expiry/events/customer-expiring-bus.service';
import { AccountingListener } from '../radius/accounting/accounting-listener.service';
import { SessionEventBus } from '../sessions/events/session-event-bus.service';
import { pingDatabase } from './database-ping';
import { ReadinessLog } from './readiness-log';

/**
 * Probes for load balancers and orchestrators, unauthenticated, revealing no configuration:
 * - `GET /health`, liveness: 200 while the process serves HTTP (a database outage is not a
 *   reason to restart it);
 * - `GET /ready`, readiness: 200 when the database answers, Redis answers (with REDIS_URL) and
 *   the accounting listener is bound (unless RADIUS_ACCT_ENABLED=false); 503 naming what is
 *   down otherwise, with a short reason that reveals no configuration (the database's: the
 *   driver's code, such as ECONNREFUSED or ER_ACCESS_DENIED_ERROR, or `timeout of 2000ms
 *   exceeded`). A 503 is the probe's answer, not a failure: its request line is at debug, like
 *   every probe's, and a dependency's going down and coming back are logged once each
 *   (ReadinessLog).
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
    private readonly bus: SessionEventBus,
    private readonly expiring: CustomerExpiringBus,
    private readonly listener: AccountingListener,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private readonly readiness = new ReadinessLog();

  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([
      () => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) }),
    ]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const kind = this.config.database.kind;
    const indicators: Array<() => HealthIndicatorResult | Promise<HealthIndicatorResult>> = [
      async () => {
        const database = this.indicators.check('database');
        const problem = await pingDatabase(this.dataSource);
        return problem === null ? database.up({ kind }) : database.down({ message: problem, kind });
      },
      ...(this.config.redisUrl
        ? [
            async () => {
              const redis = this.indicators.check('redis');
              // Both streams' connections: session events and customerExpiring.
              const errors = await Promise.all([this.bus.ping(), this.expiring.ping()]);
              const error = errors.find((e) => e !== null) ?? null;
              return error === null ? redis.up() : redis.down(error);
            },
          ]
        : []),
      ...(this.config.radiusAcctEnabled
        ? [
            () => {
              const listener = this.indicators.check('accountingListener');
              const bound = this.listener.address();
              return bound ? listener.up({ port: bound.port }) : listener.down('not listening');
            },
          ]
        : []),
    ];
    return this.health.check(
      indicators.map((indicator) => async () => {
        const result = await indicator();
        this.readiness.note(result);
        return result;
      }),
    );
  }
}
