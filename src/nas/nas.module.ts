import { Module } from '@nestjs/common';
import { SecretBox } from '../common/crypto/secret-box';
import { NasAdminService } from './nas-admin.service';
import { NasChanges } from './nas-changes';
import { NasClients } from './nas-clients';
import { NasResolver } from './nas.resolver';
import { NasService } from './nas.service';

@Module({
  providers: [NasService, NasAdminService, NasResolver, NasChanges, NasClients, SecretBox],
  exports: [NasService, NasChanges, NasClients],
})
export class NasModule {}
