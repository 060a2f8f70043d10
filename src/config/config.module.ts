import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from './config.tokens';
import type { AppConfig } from './app-config';

/** Provides the validated AppConfig to every module under the APP_CONFIG token. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
