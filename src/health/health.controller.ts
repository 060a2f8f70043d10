import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';

/**
 * `GET /health`: 200 with the database state when the database answers, 503 when it does
 * not. Unauthenticated, for load balancers and orchestrators; it reveals no configuration.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    const kind = this.config.database.kind;
    return this.health.check([
      async () => {
        const result = await this.db.pingCheck('database', { timeout: 2000 });
        return { database: { ...result.database, kind } };
      },
    ]);
  }
}
