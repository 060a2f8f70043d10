import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { buildDataSourceOptions, newDataSource } from './data-source-options';
import { TransactionsService } from './transactions.service';
import { DatabaseClockCheck } from './database-clock';

/**
 * The one TypeORM connection: MySQL/MariaDB when DATABASE_URL says so, else the embedded
 * SQLite file. Migrations run on start unless RUN_MIGRATIONS=false. On MySQL, a server that is
 * not in UTC is warned about at start (DatabaseClockCheck).
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => ({
        ...(await buildDataSourceOptions(config.database, { runMigrations: config.runMigrations })),
        // Fail fast with a clear message rather than retrying for half a minute.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
      dataSourceFactory: async (options) => newDataSource(options!).initialize(),
    }),
  ],
  providers: [TransactionsService, DatabaseClockCheck],
  exports: [TransactionsService],
})
export class DatabaseModule {}
