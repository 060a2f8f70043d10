/**
 * The TypeORM DataSource for the migration CLI, from the same environment the app reads:
 *   npx typeorm-ts-node-commonjs migration:show -d ormconfig.ts
 *   DATABASE_URL=mysql://… npx typeorm-ts-node-commonjs migration:run -d ormconfig.ts
 * New migrations are written by hand (or generated against each dialect) under
 * src/database/migrations/{mysql,sqlite} and listed in that folder's index.ts.
 */
import 'reflect-metadata';
import { loadConfig } from './src/config/app-config';
import { createDataSource } from './src/database/data-source-options';

export default createDataSource(loadConfig(process.env).database);
