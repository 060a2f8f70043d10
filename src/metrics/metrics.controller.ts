import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { Metrics } from './metrics.service';
import { parseBearer, sameToken } from '../auth/auth.service';

/**
 * `GET /metrics`, Prometheus's text format. Open like /health unless METRICS_TOKEN is set; then
 * it needs `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization.credentials`).
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const token = this.config.metricsToken;
    if (token !== null) {
      if (!sameToken(parseBearer(authorization) ?? '', token)) {
        res
          .status(401)
          .type('text/plain')
          .send('metrics need "Authorization: Bearer <METRICS_TOKEN>"\n');
        return;
      }
    }
    const { contentType, text } = await this.metrics.scrape();
    res.status(200).type(contentType).send(text);
  }
}
