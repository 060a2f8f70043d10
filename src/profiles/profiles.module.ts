import { Module } from '@nestjs/common';
import { MoneyModule } from '../common/money/money.module';
import { NasControlModule } from '../nas/control/nas-control.module';
import { ProfilesResolver } from './profiles.resolver';
import { ProfileDirectoryService } from './profile-directory.service';
import { ProfilesService } from './profiles.service';

@Module({
  imports: [NasControlModule, MoneyModule],
  providers: [ProfilesService, ProfileDirectoryService, ProfilesResolver],
  exports: [ProfilesService, ProfileDirectoryService],
})
export class ProfilesModule {}
