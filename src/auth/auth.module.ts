import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyConnections } from './api-keys/api-key-connections';
import { ApiKeysResolver } from './api-keys/api-keys.resolver';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuthService } from './auth.service';
import { RolesGuard } from './roles.guard';

@Module({
  providers: [
    AuthService,
    ApiKeysService,
    ApiKeyConnections,
    ApiKeysResolver,
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
