import { Module } from '@nestjs/common';
import { NasControlModule } from '../nas/control/nas-control.module';
import { ProfilesResolver } from './profiles.resolver';
import { ProfilesService } from './profiles.service';

@Module({
  imports: [NasControlModule],
  providers: [ProfilesService, ProfilesResolver],
  exports: [ProfilesService],
})
export class ProfilesModule {}
