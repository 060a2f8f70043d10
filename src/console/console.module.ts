import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller';

/**
 * The operator console: a browser app (src/console/web, built into dist/console) that uses only
 * the public GraphQL API with the key its user enters. Its files are served by serveConsole.
 */
@Module({ controllers: [ConsoleController] })
export class ConsoleModule {}
