import { Module } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { RouterOsClient } from './routeros-client.service';
import { ROUTEROS_OPTIONS, type RouterOsOptions } from './routeros.types';

/** The RouterOS API adapter, with ROUTEROS_TIMEOUT_MS for connecting and for each command. */
@Module({
  providers: [
    {
      provide: ROUTEROS_OPTIONS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): RouterOsOptions => ({
        connectTimeoutMs: config.nas.routerOsTimeoutMs,
        commandTimeoutMs: config.nas.routerOsTimeoutMs,
        idleCloseMs: 60_000,
      }),
    },
    RouterOsClient,
  ],
  exports: [RouterOsClient],
})
export class RouterOsModule {}
