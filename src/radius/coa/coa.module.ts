import { Module } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { COA_OPTIONS, CoaClient, type CoaOptions } from './coa-client';

/** The RFC 5176 client (Disconnect-Request, CoA-Request), with COA_TIMEOUT_MS, COA_RETRIES and
 * COA_SOURCE_ADDRESS. */
@Module({
  providers: [
    {
      provide: COA_OPTIONS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): CoaOptions => ({
        timeoutMs: config.nas.coaTimeoutMs,
        retries: config.nas.coaRetries,
        sourceAddress: config.nas.coaSourceAddress,
      }),
    },
    CoaClient,
  ],
  exports: [CoaClient],
})
export class CoaModule {}
