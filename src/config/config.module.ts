import { DynamicModule, Global, Module } from '@nestjs/common';
import { compileTrustProxy } from '../common/http/client-address';
import { APP_CONFIG, TRUST_PROXY } from './config.tokens';
import type { AppConfig } from './app-config';

/**
 * Provides the validated AppConfig to every module under the APP_CONFIG token, and what is
 * compiled from it once: TRUST_PROXY's trust function.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: TRUST_PROXY,
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig) => compileTrustProxy(c.trustProxy),
        },
      ],
      exports: [APP_CONFIG, TRUST_PROXY],
    };
  }
}
